import { describe, expect, it } from 'vitest';
import type { Post } from '../../ui/post/post-card.tsx';
import { withReaction } from './reactions.tsx';

const post = (myReaction: Post['myReaction'], like = 0, love = 0): Post => ({
  id: 'p',
  author: { id: 'u', username: 'ana', displayName: 'Ana' },
  text: 'hi',
  visibility: 'public',
  entities: [],
  media: [],
  counts: { comments: 0, reactions: { like, love, laugh: 0, wow: 0, sad: 0 } },
  myReaction,
  createdAt: new Date(0).toISOString(),
  editedAt: null,
});

describe('the optimistic reaction', () => {
  it('adds a first reaction', () => {
    const next = withReaction(post(null), 'like');
    expect(next.myReaction).toBe('like');
    expect(next.counts.reactions.like).toBe(1);
  });
  it('moves a reaction from one kind to another', () => {
    const next = withReaction(post('like', 3, 1), 'love');
    expect(next.counts.reactions).toMatchObject({ like: 2, love: 2 });
  });
  it('removes a reaction without going below zero', () => {
    expect(withReaction(post('like', 1), null).counts.reactions.like).toBe(0);
    expect(withReaction(post('like', 0), null).counts.reactions.like).toBe(0);
  });
  it('leaves the original untouched (the rollback restores it)', () => {
    const original = post('like', 1);
    withReaction(original, 'sad');
    expect(original.counts.reactions.like).toBe(1);
    expect(original.myReaction).toBe('like');
  });
});
