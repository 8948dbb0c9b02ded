import { useQueryClient } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { feedNews } from './realtime.ts';
import './realtime.css';

/**
 * "N new posts" (from `feed.new`): the feed is not re-read under the reader; pressing the pill
 * re-reads it from the top and `onShow` takes the reader there.
 */
export default function NewPostsPillButton({ onShow }: { onShow: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const count = useSyncExternalStore(feedNews.subscribe, feedNews.get);
  return (
    <div className="new-posts" aria-live="polite">
      {count > 0 && (
        <button
          type="button"
          className="button primary new-posts-pill"
          onClick={() => {
            feedNews.set(0);
            void queryClient.resetQueries({ queryKey: ['feed', 'home'] });
            onShow();
          }}
        >
          {t('chat.newPosts', { count })}
        </button>
      )}
    </div>
  );
}
