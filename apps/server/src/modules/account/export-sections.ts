import { type RawBuilder, sql } from 'kysely';

/**
 * The sections of a data export, in archive order. Each query picks its columns explicitly (a row
 * never lands in the archive as is) and pages by a unique key, so an archive of any size is
 * written in batches.
 */
export const ARCHIVE_SECTIONS = [
  'account',
  'posts',
  'comments',
  'reactions',
  'friends',
  'friendRequests',
  'blocks',
  'mutes',
  'collections',
  'notifications',
  'conversations',
  'messages',
  'media',
  'sessions',
  'dataExports',
  'auditLog',
  'reports',
] as const;
export type ArchiveSection = (typeof ARCHIVE_SECTIONS)[number];

type SectionQuery = (
  userId: string,
  after: string | null,
  limit: number,
) => RawBuilder<{ key: string; doc: string }>;

const after = (column: string, value: string | null) =>
  value === null ? sql`true` : sql`${sql.raw(column)} > ${value}::uuid`;

export const SECTION_QUERIES: Record<ArchiveSection, SectionQuery> = {
  account: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'username', username, 'email', email, 'displayName', display_name, 'bio', bio,
      'role', role, 'createdAt', created_at, 'updatedAt', updated_at, 'lastActiveAt', last_active_at,
      'bannedAt', banned_at, 'deactivatedAt', deactivated_at, 'eraseAfter', erase_after)::text AS doc
      FROM users WHERE id = ${u} AND ${after('id', a)} LIMIT ${n}`,
  posts: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'text', text, 'visibility', visibility, 'entities', entities,
      'createdAt', created_at, 'editedAt', edited_at, 'deletedAt', deleted_at)::text AS doc
      FROM posts WHERE author_id = ${u} AND ${after('id', a)} ORDER BY id LIMIT ${n}`,
  comments: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'postId', post_id, 'text', text, 'createdAt', created_at, 'deletedAt', deleted_at)::text AS doc
      FROM comments WHERE author_id = ${u} AND ${after('id', a)} ORDER BY id LIMIT ${n}`,
  reactions: (u, a, n) => sql`
    SELECT post_id::text AS key, jsonb_build_object(
      'postId', post_id, 'kind', kind, 'createdAt', created_at)::text AS doc
      FROM reactions WHERE user_id = ${u} AND ${after('post_id', a)} ORDER BY post_id LIMIT ${n}`,
  friends: (u, a, n) => sql`
    SELECT f.friend_id::text AS key, jsonb_build_object(
      'userId', f.friend_id, 'username', o.username, 'since', f.created_at)::text AS doc
      FROM friendships f JOIN users o ON o.id = f.friend_id
     WHERE f.user_id = ${u} AND ${after('f.friend_id', a)} ORDER BY f.friend_id LIMIT ${n}`,
  friendRequests: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'direction', CASE WHEN from_user_id = ${u} THEN 'outgoing' ELSE 'incoming' END,
      'userId', CASE WHEN from_user_id = ${u} THEN to_user_id ELSE from_user_id END,
      'createdAt', created_at)::text AS doc
      FROM friend_requests WHERE (from_user_id = ${u} OR to_user_id = ${u}) AND ${after('id', a)}
     ORDER BY id LIMIT ${n}`,
  blocks: (u, a, n) => sql`
    SELECT blocked_id::text AS key, jsonb_build_object('userId', blocked_id, 'createdAt', created_at)::text AS doc
      FROM blocks WHERE blocker_id = ${u} AND ${after('blocked_id', a)} ORDER BY blocked_id LIMIT ${n}`,
  // users, hashtags and conversations I muted, in force or not yet removed
  mutes: (u, a, n) => sql`
    SELECT key, doc FROM (
      SELECT 'user:' || muted_id AS key, jsonb_build_object(
        'type', 'user', 'userId', muted_id, 'createdAt', created_at, 'expiresAt', expires_at)::text AS doc
        FROM user_mutes WHERE user_id = ${u}
      UNION ALL
      SELECT 'hashtag:' || tag, jsonb_build_object(
        'type', 'hashtag', 'tag', tag, 'createdAt', created_at, 'expiresAt', expires_at)::text
        FROM hashtag_mutes WHERE user_id = ${u}
      UNION ALL
      SELECT 'conversation:' || conversation_id, jsonb_build_object(
        'type', 'conversation', 'conversationId', conversation_id, 'createdAt', created_at,
        'expiresAt', expires_at)::text
        FROM conversation_mutes WHERE user_id = ${u}) m
     WHERE ${a === null ? sql`true` : sql`key COLLATE "C" > ${a}`} ORDER BY key COLLATE "C" LIMIT ${n}`,
  collections: (u, a, n) => sql`
    SELECT c.id::text AS key, jsonb_build_object(
      'id', c.id, 'title', c.title, 'description', c.description, 'visibility', c.visibility,
      'createdAt', c.created_at, 'updatedAt', c.updated_at,
      'items', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                  'postId', i.post_id, 'position', i.position, 'addedAt', i.added_at) ORDER BY i.position), '[]')
                  FROM collection_items i WHERE i.collection_id = c.id))::text AS doc
      FROM collections c WHERE c.owner_id = ${u} AND ${after('c.id', a)} ORDER BY c.id LIMIT ${n}`,
  notifications: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'kind', kind, 'actorIds', actor_ids, 'actorCount', actor_count, 'subjectId', subject_id,
      'data', data, 'createdAt', created_at, 'updatedAt', updated_at, 'readAt', read_at)::text AS doc
      FROM notifications WHERE user_id = ${u} AND ${after('id', a)} ORDER BY id LIMIT ${n}`,
  conversations: (u, a, n) => sql`
    SELECT m.conversation_id::text AS key, jsonb_build_object(
      'id', c.id, 'kind', c.kind, 'title', c.title, 'createdByMe', coalesce(c.created_by = ${u}, false),
      'role', m.role, 'joinedAt', m.joined_at, 'leftAt', m.left_at, 'lastReadSeq', m.last_read_seq)::text AS doc
      FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.user_id = ${u} AND ${after('m.conversation_id', a)} ORDER BY m.conversation_id LIMIT ${n}`,
  // the messages I sent (others' messages in my conversations are theirs)
  messages: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'conversationId', conversation_id, 'seq', seq, 'body', body,
      'createdAt', created_at, 'editedAt', edited_at, 'deletedAt', deleted_at)::text AS doc
      FROM messages WHERE sender_id = ${u} AND ${after('id', a)} ORDER BY id LIMIT ${n}`,
  // metadata of my uploads (the images themselves are reachable through my posts and messages)
  media: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'status', status, 'mimeType', mime_type, 'fileName', file_name, 'alt', alt,
      'bytes', original_bytes, 'width', width, 'height', height, 'attachedTo', attached_kind,
      'createdAt', created_at)::text AS doc
      FROM media WHERE owner_id = ${u} AND ${after('id', a)} ORDER BY id LIMIT ${n}`,
  sessions: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'userAgent', user_agent, 'ip', ip, 'createdAt', created_at, 'lastUsedAt', last_used_at,
      'expiresAt', expires_at, 'revokedAt', revoked_at, 'revokedReason', revoked_reason)::text AS doc
      FROM sessions WHERE user_id = ${u} AND ${after('id', a)} ORDER BY id LIMIT ${n}`,
  dataExports: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'status', status, 'createdAt', created_at, 'completedAt', completed_at)::text AS doc
      FROM data_exports WHERE user_id = ${u} AND ${after('id', a)} ORDER BY id LIMIT ${n}`,
  // entries the user made, and entries about their account (audit_log_actor_idx, audit_log_user_target_idx)
  auditLog: (u, a, n) => sql`
    SELECT id::text AS key, jsonb_build_object(
      'id', id, 'at', at, 'action', action, 'actorId', actor_id, 'targetType', target_type,
      'targetId', target_id, 'ip', ip, 'userAgent', user_agent, 'details', details)::text AS doc
      FROM audit_log
     WHERE (actor_id = ${u} OR (target_type = 'user' AND target_id = ${u}::text)) AND ${after('id', a)}
     ORDER BY id LIMIT ${n}`,
  // reports I filed (with the case's state, as reporters are told it: not the sanction), and the
  // moderation decisions about me (what, why, my appeal); decisions I made as staff are in auditLog
  reports: (u, a, n) => sql`
    SELECT key, doc FROM (
      SELECT 'filed:' || r.id AS key, jsonb_build_object(
        'type', 'filed', 'id', r.id, 'targetType', c.target_type, 'targetId', c.target_id,
        'reason', r.reason, 'note', r.note, 'createdAt', r.created_at, 'status', c.status)::text AS doc
        FROM reports r JOIN report_cases c ON c.id = r.case_id WHERE r.reporter_id = ${u}
      UNION ALL
      SELECT 'about-me:' || c.id, jsonb_build_object(
        'type', 'decision', 'caseId', c.id, 'targetType', c.target_type, 'targetId', c.target_id,
        'reasons', c.reasons, 'snapshot', c.snapshot, 'stage', c.stage, 'status', c.status,
        'action', coalesce(c.action, c.first_action), 'note', c.resolution_note, 'decidedAt', c.resolved_at,
        'suspendedUntil', c.suspended_until, 'appealedAt', c.appealed_at, 'appeal', c.appeal_text)::text
        FROM report_cases c
       WHERE c.target_user_id = ${u} AND coalesce(c.action, c.first_action) IS NOT NULL
         AND coalesce(c.action, c.first_action) <> 'dismiss') x
     WHERE ${a === null ? sql`true` : sql`key COLLATE "C" > ${a}`} ORDER BY key COLLATE "C" LIMIT ${n}`,
};

/**
 * Every table with rows about a user, and where the archive holds them or why it does not. A test
 * compares it with the foreign keys to users, so a new table cannot be forgotten.
 */
export const TABLE_COVERAGE: Record<string, ArchiveSection | `not exported: ${string}`> = {
  users: 'account',
  posts: 'posts',
  comments: 'comments',
  reactions: 'reactions',
  friendships: 'friends',
  friend_requests: 'friendRequests',
  blocks: 'blocks',
  user_mutes: 'mutes',
  hashtag_mutes: 'mutes',
  conversation_mutes: 'mutes',
  collections: 'collections',
  notifications: 'notifications',
  sessions: 'sessions',
  data_exports: 'dataExports',
  audit_log: 'auditLog',
  reports: 'reports',
  report_cases: 'reports',
  conversations: 'conversations',
  conversation_members: 'conversations',
  messages: 'messages',
  media: 'media',
  feed_entries: "not exported: derived from friends' posts",
  realtime_tickets: 'not exported: single-use connection tickets, valid 30 s (hashes of secrets)',
  account_tokens:
    'not exported: single-use e-mail verification and password reset links, valid at most 24 h (hashes of secrets)',
  two_factor: 'not exported: the TOTP secret (a credential) and the second-factor lock',
  recovery_codes: 'not exported: hashes of single-use recovery codes',
  passkeys: "not exported: public keys of the user's passkeys; their names are listed at GET /auth/passkeys",
  auth_challenges: 'not exported: single-use sign-in challenges, valid 5 min',
  known_devices: 'not exported: hashes of device family and network, used only to notice new sign-ins',
  push_subscriptions:
    "not exported: a session's Web Push channel (the push service's capability URL and the browser's encryption keys: credentials), removed with the session",
};
