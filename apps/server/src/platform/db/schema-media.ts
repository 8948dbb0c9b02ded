import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | undefined, string>;
/** bigint columns: pg returns them as strings. */
type Bytes = ColumnType<string, number | undefined, number>;

export type MediaStatus = 'uploading' | 'processing' | 'ready' | 'failed';
export type MediaFailure = 'too_many_pixels' | 'corrupt' | 'unsupported';
export type MediaMime = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'image/avif';
export type VariantName = 'thumb' | 'large';

export interface StoredVariant {
  key: string;
  width: number;
  height: number;
  bytes: number;
  etag: string;
}

export interface MediaTable {
  id: string;
  owner_id: string;
  status: MediaStatus;
  failure_reason: MediaFailure | null;
  mime_type: MediaMime | null;
  file_name: Generated<string>;
  alt: Generated<string>;
  original_key: string;
  original_bytes: Bytes;
  variants: Json<Partial<Record<VariantName, StoredVariant>>>;
  stored_bytes: Bytes;
  width: number | null;
  height: number | null;
  animated: Generated<boolean>;
  placeholder: string | null;
  attached_kind: 'post' | 'message' | null;
  attached_at: NullableTimestamp;
  created_at: Timestamp;
  processed_at: NullableTimestamp;
}

export interface PostMediaTable {
  post_id: string;
  media_id: string;
  position: number;
}

export interface MessageMediaTable {
  message_id: string;
  media_id: string;
  position: number;
}

export interface MediaTables {
  media: MediaTable;
  post_media: PostMediaTable;
  message_media: MessageMediaTable;
}
