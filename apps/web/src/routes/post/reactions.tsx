import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { submitWrite } from '../../outbox/index.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import type { Post } from '../../ui/post/post-card.tsx';

export const KINDS = ['like', 'love', 'laugh', 'wow', 'sad'] as const;
type Kind = (typeof KINDS)[number];

/** The post as it looks with `kind` (or none) as the caller's reaction. */
export function withReaction(post: Post, kind: Kind | null): Post {
  const reactions = { ...post.counts.reactions };
  if (post.myReaction) reactions[post.myReaction] = Math.max(0, reactions[post.myReaction] - 1);
  if (kind) reactions[kind] += 1;
  return { ...post, myReaction: kind, counts: { ...post.counts, reactions } };
}

/** Reactions shown at once (optimistic), rolled back when the server refuses. */
export function Reactions({ post }: { post: Post }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const key = ['post', post.id];
  const react = useMutation({
    // through the outbox: offline it is kept (and stays shown) until it can be sent
    mutationFn: (kind: Kind | null) =>
      submitWrite(
        { kind: 'reaction', postId: post.id, reaction: kind ?? post.myReaction ?? 'like', on: kind !== null },
        { inline: true },
      ),
    onMutate: async (kind) => {
      await queryClient.cancelQueries({ queryKey: key, exact: true });
      const previous = queryClient.getQueryData<Post>(key);
      if (previous) queryClient.setQueryData<Post>(key, withReaction(previous, kind));
      return { previous };
    },
    onError: (_error, _kind, context) => {
      if (context?.previous) queryClient.setQueryData(key, context.previous);
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ['feed'] });
    },
  });
  return (
    <div className="stack">
      <fieldset className="reactions">
        <legend className="visually-hidden">{t('reactions.legend')}</legend>
        {KINDS.map((kind) => (
          <button
            key={kind}
            type="button"
            className="button"
            aria-pressed={post.myReaction === kind}
            onClick={() => react.mutate(post.myReaction === kind ? null : kind)}
          >
            {t(`reactions.${kind}`)} {post.counts.reactions[kind]}
          </button>
        ))}
      </fieldset>
      {react.error && <ErrorMessage error={react.error} />}
    </div>
  );
}
