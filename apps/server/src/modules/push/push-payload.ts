import type { NotificationView } from '../notifications/notifications.schema.ts';

/** What a push carries to the service worker: what happened and where to look — no secrets. */
export interface PushPayload {
  type: NotificationView['kind'];
  /** The notification's id: the service worker's `tag`, so a newer push replaces an older one. */
  id: string;
  text: string;
  /** Path in the web app, resolved against its origin by the service worker. */
  url: string;
}

/** "Ana", "Ana and Ben", "Ana and 3 others": display names only, as the notification list shows. */
function actorsOf(n: NotificationView): string {
  const [first, second] = n.actors;
  const name = (u: typeof first) => (u ? u.displayName || `@${u.username}` : 'Someone');
  if (n.actorCount <= 1) return name(first);
  if (n.actorCount === 2 && second) return `${name(first)} and ${name(second)}`;
  const others = n.actorCount - 1;
  return `${name(first)} and ${others} ${others === 1 ? 'other' : 'others'}`;
}

/** The push of a notification (English: the service worker has no catalogue of its own). */
export function pushPayloadOf(n: NotificationView): PushPayload {
  const actors = actorsOf(n);
  const post = n.subjectId ? `/posts/${n.subjectId}` : '/notifications';
  const [text, url] = ((): [string, string] => {
    switch (n.kind) {
      case 'friend_request':
        return [`${actors} sent you a friend request`, '/friends'];
      case 'friend_accepted': {
        const first = n.actors[0];
        return [`${actors} accepted your friend request`, first ? `/users/${first.username}` : '/friends'];
      }
      case 'comment':
        return [`${actors} commented on your post`, post];
      case 'reaction':
        return [`${actors} reacted to your post`, post];
      case 'mention':
        return [`${actors} mentioned you`, post];
      case 'report_resolved':
        return ['A report you made was reviewed', '/notifications'];
      case 'moderation_notice':
        return [
          'A moderation decision about your account',
          n.subjectId ? `/moderation/notices/${n.subjectId}` : '/notifications',
        ];
    }
  })();
  return { type: n.kind, id: n.id, text, url };
}
