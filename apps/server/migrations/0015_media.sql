-- Media: uploaded images, their processed variants, and what they are attached to.

-- One upload. The original and the variants live in storage (disk or S3) under server-generated
-- keys (media/<id>/…); this row is the truth about them.
CREATE TABLE media (
  id              uuid PRIMARY KEY,
  owner_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- uploading: a direct-to-S3 upload was granted, not completed yet
  status          text NOT NULL CHECK (status IN ('uploading', 'processing', 'ready', 'failed')),
  failure_reason  text CHECK (failure_reason IN ('too_many_pixels', 'corrupt', 'unsupported')),
  -- sniffed from the bytes (never the client's word); null while uploading
  mime_type       text CHECK (mime_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif')),
  -- the client's file name, sanitized, for display only (storage keys never derive from it)
  file_name       text NOT NULL DEFAULT '' CHECK (length(file_name) <= 255),
  alt             text NOT NULL DEFAULT '' CHECK (length(alt) <= 1500),
  original_key    text NOT NULL,
  -- declared by a direct upload, counted by a streamed one
  original_bytes  bigint NOT NULL DEFAULT 0 CHECK (original_bytes >= 0),
  -- { "thumb": { key, width, height, bytes, etag }, "large": { … } } once ready
  variants        jsonb NOT NULL DEFAULT '{}',
  -- original + variants: what counts against the owner's quota
  stored_bytes    bigint NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0),
  width           integer CHECK (width > 0),
  height          integer CHECK (height > 0),
  animated        boolean NOT NULL DEFAULT false,
  -- blurhash of the image
  placeholder     text CHECK (length(placeholder) <= 100),
  -- what holds this medium; null while unattached (swept after 24 h)
  attached_kind   text CHECK (attached_kind IN ('post', 'message')),
  attached_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  processed_at    timestamptz,
  CHECK ((attached_kind IS NULL) = (attached_at IS NULL)),
  CHECK (status <> 'failed' OR failure_reason IS NOT NULL)
);
-- quota: a user's bytes by index-only scan
CREATE INDEX media_owner_idx ON media (owner_id) INCLUDE (stored_bytes);
-- the 24 h sweep of uploads never attached
CREATE INDEX media_unattached_idx ON media (created_at) WHERE attached_kind IS NULL;
-- queue depth metric
CREATE INDEX media_pending_idx ON media (created_at) WHERE status IN ('uploading', 'processing');

-- Up to 4 media per post, in order; a medium belongs to one post at most.
CREATE TABLE post_media (
  post_id   uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  media_id  uuid NOT NULL UNIQUE REFERENCES media (id) ON DELETE CASCADE,
  position  smallint NOT NULL CHECK (position BETWEEN 0 AND 3),
  PRIMARY KEY (post_id, position)
);

-- Media attached to chat messages (always private: signed URLs only). No foreign key to messages:
-- the chat module releases a message's media itself (MediaService.releaseForMessage), and a row
-- left behind by a vanished message is swept like an unattached upload.
CREATE TABLE message_media (
  message_id uuid NOT NULL,
  media_id   uuid NOT NULL UNIQUE REFERENCES media (id) ON DELETE CASCADE,
  position   smallint NOT NULL CHECK (position BETWEEN 0 AND 3),
  PRIMARY KEY (message_id, position)
);
