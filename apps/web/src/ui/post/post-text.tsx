import type { components } from '@kith/contract';
import { Link } from '@tanstack/react-router';

type Entity = components['schemas']['Post']['entities'][number];

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'"]/g;

/** Only http(s) URLs become links, opened as user-generated, untrusted links. */
export function safeHref(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function withUrls(text: string, keyPrefix: string): React.ReactNode[] {
  const out: React.ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const href = safeHref(match[0]);
    if (!href) continue;
    out.push(text.slice(last, match.index));
    out.push(
      <a
        key={`${keyPrefix}-${match.index}`}
        href={href}
        rel="noopener noreferrer nofollow ugc"
        target="_blank"
      >
        {match[0]}
      </a>,
    );
    last = match.index + match[0].length;
  }
  out.push(text.slice(last));
  return out;
}

/** A hashtag links to its tag page, a mention to the profile (the server's entity names the target). */
function EntityLink({ entity, label }: { entity: Entity; label: string }) {
  return entity.type === 'hashtag' ? (
    <Link to="/tags/$tag" params={{ tag: entity.tag }} className="entity hashtag">
      {label}
    </Link>
  ) : (
    <Link to="/users/$username" params={{ username: entity.username }} className="entity mention">
      {label}
    </Link>
  );
}

/**
 * A post's (or comment's) text, rendered as text: hashtags and mentions from the server's
 * entities link inside the app, http(s) URLs link out; nothing is ever parsed as HTML.
 * Entity offsets are in Unicode code points.
 */
export function PostText({ text, entities = [] }: { text: string; entities?: Entity[] }) {
  const chars = [...text];
  const sorted = [...entities].sort((a, b) => a.start - b.start);
  const out: React.ReactNode[] = [];
  let cursor = 0;
  for (const entity of sorted) {
    if (entity.start < cursor || entity.end > chars.length) continue;
    out.push(...withUrls(chars.slice(cursor, entity.start).join(''), `t${cursor}`));
    const label = chars.slice(entity.start, entity.end).join('');
    out.push(<EntityLink key={`e${entity.start}`} entity={entity} label={label} />);
    cursor = entity.end;
  }
  out.push(...withUrls(chars.slice(cursor).join(''), `t${cursor}`));
  return (
    <p className="post-text" data-user-content>
      {out}
    </p>
  );
}
