import { queryOptions } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';

export type UserMute = ResponseOf<'/api/v1/mutes/users', 'get'>['items'][number];
export type HashtagMute = ResponseOf<'/api/v1/mutes/hashtags', 'get'>['items'][number];

/** Everything a mute changes: the lists of mutes, and the views they filter. */
export const MUTE_AFFECTED = [['mutes'], ['feed'], ['notifications'], ['chat']] as const;

export const mutedUsersQuery = queryOptions({
  queryKey: ['mutes', 'users'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/mutes/users', { params: { query: { limit: 50 } }, signal })),
});

export const mutedHashtagsQuery = queryOptions({
  queryKey: ['mutes', 'hashtags'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/mutes/hashtags', { signal })),
});

export const mutedConversationsQuery = queryOptions({
  queryKey: ['mutes', 'conversations'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/mutes/conversations', { signal })),
});

export const muteUser = (username: string) =>
  call(api.PUT('/api/v1/mutes/users/{username}', { params: { path: { username } }, body: {} }));
export const unmuteUser = (username: string) =>
  call(api.DELETE('/api/v1/mutes/users/{username}', { params: { path: { username } } }));
export const muteHashtag = (tag: string) =>
  call(api.PUT('/api/v1/mutes/hashtags/{tag}', { params: { path: { tag } }, body: {} }));
export const unmuteHashtag = (tag: string) =>
  call(api.DELETE('/api/v1/mutes/hashtags/{tag}', { params: { path: { tag } } }));
export const muteConversation = (id: string) =>
  call(api.PUT('/api/v1/mutes/conversations/{id}', { params: { path: { id } }, body: {} }));
export const unmuteConversation = (id: string) =>
  call(api.DELETE('/api/v1/mutes/conversations/{id}', { params: { path: { id } } }));
