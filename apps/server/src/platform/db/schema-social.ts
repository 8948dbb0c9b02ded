import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | undefined, string>;
type NullableUuid = ColumnType<string | null, string | null | undefined, string | null>;

export type Visibility = 'public' | 'friends' | 'private';
export type ReactionKind = 'like' | 'love' | 'laugh' | 'wow' | 'sad';
export type NotificationKind =
  | 'friend_request'
  | 'friend_accepted'
  | 'comment'
  | 'reaction'
  | 'mention'
  | 'report_resolved'
  | 'moderation_notice';

export interface FriendshipsTable {
  user_id: string;
  friend_id: string;
  created_at: Timestamp;
}

export interface FriendRequestsTable {
  id: string;
  from_user_id: string;
  to_user_id: string;
  created_at: Timestamp;
}

export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: Timestamp;
}

export interface PostsTable {
  id: string;
  author_id: string;
  text: string;
  visibility: Visibility;
  entities: Json<unknown[]>;
  comment_count: ColumnType<number, never, never>;
  reaction_counts: ColumnType<Record<string, number>, never, never>;
  created_at: Timestamp;
  edited_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  /** The report case whose decision removed it (0043): an overturned appeal restores it. */
  removed_by_case: NullableUuid;
}

export interface PostTagsTable {
  tag: string;
  post_id: string;
  public: boolean;
  created_at: Timestamp;
}

export interface CommentsTable {
  id: string;
  post_id: string;
  author_id: string;
  text: string;
  entities: Json<unknown[]>;
  created_at: Timestamp;
  deleted_at: NullableTimestamp;
  edited_at: NullableTimestamp;
  /** The report case whose decision removed it (0043): an overturned appeal restores it. */
  removed_by_case: NullableUuid;
}

export interface ReactionsTable {
  post_id: string;
  user_id: string;
  kind: ReactionKind;
  created_at: Timestamp;
}

export interface FeedEntriesTable {
  user_id: string;
  post_id: string;
  author_id: string;
}

export interface CollectionsTable {
  id: string;
  owner_id: string;
  title: string;
  description: ColumnType<string, string | undefined, string>;
  visibility: Visibility;
  item_count: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CollectionItemsTable {
  collection_id: string;
  post_id: string;
  position: number;
  added_at: Timestamp;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  kind: NotificationKind;
  group_key: string | null;
  actor_ids: string[];
  actor_count: ColumnType<number, number | undefined, number>;
  subject_id: string | null;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
  read_at: NullableTimestamp;
}

export interface TrendingTagsTable {
  rank: number;
  tag: string;
  uses: number;
  computed_at: Timestamp;
}

export type DataExportStatus = 'pending' | 'ready' | 'failed' | 'expired';

export interface DataExportsTable {
  id: string;
  user_id: string;
  status: ColumnType<DataExportStatus, DataExportStatus | undefined, DataExportStatus>;
  file_key: string | null;
  size_bytes: ColumnType<string | null, number | null | undefined, number | null>;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
  expires_at: NullableTimestamp;
}

export interface SocialTables {
  data_exports: DataExportsTable;
  trending_tags: TrendingTagsTable;
  friendships: FriendshipsTable;
  friend_requests: FriendRequestsTable;
  blocks: BlocksTable;
  posts: PostsTable;
  post_tags: PostTagsTable;
  comments: CommentsTable;
  reactions: ReactionsTable;
  feed_entries: FeedEntriesTable;
  collections: CollectionsTable;
  collection_items: CollectionItemsTable;
  notifications: NotificationsTable;
}
