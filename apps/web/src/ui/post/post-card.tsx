import type { components } from '@kith/contract';
import { useTranslation } from 'react-i18next';
import { ReportButton } from '../report/index.ts';
import { PostText } from './post-text.tsx';

export type Post = components['schemas']['Post'];

/** When it was posted, relative for the last week and a date otherwise. */
export function TimeAgo({ iso }: { iso: string }) {
  const { i18n } = useTranslation();
  const locale = i18n.language === 'pseudo' ? 'en' : i18n.language;
  const at = Date.parse(iso);
  const seconds = Math.round((at - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const label =
    abs < 60
      ? rtf.format(seconds, 'second')
      : abs < 3600
        ? rtf.format(Math.round(seconds / 60), 'minute')
        : abs < 86_400
          ? rtf.format(Math.round(seconds / 3600), 'hour')
          : abs < 7 * 86_400
            ? rtf.format(Math.round(seconds / 86_400), 'day')
            : new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(at);
  return (
    <time
      dateTime={iso}
      title={new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(at)}
    >
      {label}
    </time>
  );
}

/** The images of a post: the server's variants with their sizes (no layout shift), alt text. */
export function PostMedia({ media, eager = false }: { media: Post['media']; eager?: boolean }) {
  if (media.length === 0) return null;
  return (
    <div className={`post-media count-${media.length}`}>
      {media.map((m) => (
        <img
          key={m.id}
          src={m.variants.thumb.url}
          srcSet={`${m.variants.thumb.url} ${m.variants.thumb.width}w, ${m.variants.large.url} ${m.variants.large.width}w`}
          sizes="(max-width: 640px) 100vw, 600px"
          width={m.variants.thumb.width}
          height={m.variants.thumb.height}
          alt={m.alt}
          loading={eager ? 'eager' : 'lazy'}
          decoding="async"
          style={m.placeholder?.startsWith('#') ? { backgroundColor: m.placeholder } : undefined}
        />
      ))}
    </div>
  );
}

export function reactionTotal(post: Post): number {
  return Object.values(post.counts.reactions).reduce((a, b) => a + b, 0);
}

/** The body of a post (author, time, text, images, counts), used in the feed and on its page. */
export function PostBody({
  post,
  headingLevel = 2,
  eagerMedia = false,
}: {
  post: Post;
  headingLevel?: 2 | 3;
  eagerMedia?: boolean;
}) {
  const { t } = useTranslation();
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <>
      <header className="post-header">
        <Heading className="post-author" id={`post-${post.id}-author`}>
          <span data-user-content>{post.author.displayName}</span>{' '}
          <span className="muted" data-user-content>
            @{post.author.username}
          </span>
        </Heading>
        <span className="muted small">
          <TimeAgo iso={post.createdAt} />
          {post.editedAt && <> · {t('post.edited')}</>} · {t(`post.visibility.${post.visibility}`)}
        </span>
        <ReportButton
          target={{ type: 'post', id: post.id }}
          authorId={post.author.id}
          label={t('moderation.label.post', { name: post.author.displayName })}
        />
      </header>
      <PostText text={post.text} entities={post.entities} />
      <PostMedia media={post.media} eager={eagerMedia} />
      <p className="muted small post-counts">
        {t('post.reactionCount', { count: reactionTotal(post) })} ·{' '}
        {t('post.commentCount', { count: post.counts.comments })}
      </p>
    </>
  );
}
