import { createRoute } from '@tanstack/react-router';
import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { rootRoute } from '../../routes/root.tsx';
import { renderRoute } from '../../test/render-route.tsx';
import { PostText } from './post-text.tsx';

const text = 'Hi @ada, see #kith and https://example.org/a?b=1. Not javascript:alert(1) nor <b>bold</b>';
// ASCII only: code point offsets are string offsets
const cp = (s: string) => text.indexOf(s);
const entities = [
  { type: 'mention' as const, start: cp('@ada'), end: cp('@ada') + 4, username: 'ada' },
  { type: 'hashtag' as const, start: cp('#kith'), end: cp('#kith') + 5, tag: 'kith' },
];

const screenRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/t',
  component: () => <PostText text={text} entities={entities} />,
});

describe('PostText', () => {
  it('links hashtags to their tag page, mentions to the profile, http(s) URLs out as user content; never HTML', async () => {
    renderRoute([screenRoute], '/t');
    const mention = await screen.findByRole('link', { name: '@ada' });
    expect(mention.getAttribute('href')).toBe('/users/ada');
    expect(screen.getByRole('link', { name: '#kith' }).getAttribute('href')).toBe('/tags/kith');
    const out = screen.getByRole('link', { name: 'https://example.org/a?b=1' });
    expect(out.getAttribute('href')).toBe('https://example.org/a?b=1');
    expect(out.getAttribute('rel')).toBe('noopener noreferrer nofollow ugc');
    expect(screen.getAllByRole('link').filter((a) => a.closest('.post-text'))).toHaveLength(3);
    const paragraph = mention.closest('p')!;
    expect(paragraph.querySelector('b')).toBeNull();
    expect(paragraph.textContent).toBe(text);
  });
});
