import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type Static, type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';
import { vapidPublicKeyOf } from './modules/push/vapid-keys.ts';

export const ROLES = ['api', 'realtime', 'worker'] as const;
export type Role = (typeof ROLES)[number];

const Int = (min: number, max: number, def: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description });
const Str = (description: string, def?: string) =>
  def === undefined
    ? Type.Optional(Type.String({ minLength: 1, description }))
    : Type.String({ default: def, description });

/**
 * Every environment variable Kith reads. The README's configuration table is generated from the
 * `description` of each entry (`npm run contract` checks it stays in sync).
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
    description: 'development | production | test. In production every secret must be given.',
  }),
  KITH_ROLES: Type.String({
    default: 'api,realtime,worker',
    pattern: '^(api|realtime|worker)(,(api|realtime|worker))*$',
    description: 'Comma list of roles this process runs (`--role` on the command line overrides).',
  }),
  HOST: Str('Address the HTTP server binds to.', '0.0.0.0'),
  PORT: Int(0, 65535, 8080, 'HTTP port (0 picks a free one).'),
  DATA_DIR: Str('Where embedded Postgres, generated keys and local media live.', './data'),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level.' },
  ),
  DATABASE_URL: Str('PostgreSQL primary. Unset: embedded Postgres under DATA_DIR/postgres.'),
  DATABASE_DIRECT_URL: Str(
    'PostgreSQL primary without a pooler in between, for what needs a session: migrations (locks), the job runner (LISTEN/NOTIFY), backups (snapshot). Unset: DATABASE_URL.',
  ),
  DATABASE_READ_URLS: Str('Comma list of read replicas for lag-tolerant reads.'),
  DATABASE_REPLICA_MAX_LAG_MS: Int(
    0,
    3_600_000,
    2_000,
    'A read replica whose replay lag (measured by WAL position) is above this serves no reads until it is back under; its reads go to the primary.',
  ),
  DATABASE_REPLICA_PROBE_INTERVAL_MS: Int(
    50,
    60_000,
    1_000,
    "How often each instance reads the primary's WAL position and every replica's replay position (lag, health).",
  ),
  DATABASE_POOL_SIZE: Int(1, 500, 10, 'Connections per pool (primary and each replica).'),
  DATABASE_STATEMENT_TIMEOUT_MS: Int(100, 600_000, 15_000, 'statement_timeout for application queries.'),
  MIGRATE_ON_START: Type.Optional(
    Type.Boolean({
      description: 'Apply migrations at start. Default: true in embedded shape, false otherwise.',
    }),
  ),
  PUBLIC_URL: Str('Where people reach the web app; links in e-mail point here.', 'http://localhost:8080'),
  SMTP_HOST: Str('SMTP server for outgoing mail. Unset: mail is written to DATA_DIR/mail as .eml files.'),
  SMTP_PORT: Int(1, 65535, 587, 'SMTP port (465 with SMTP_SECURE=true, 587 with STARTTLS).'),
  SMTP_SECURE: Type.Boolean({
    default: false,
    description: 'TLS from the first byte (port 465); false: STARTTLS, required unless the host is loopback.',
  }),
  SMTP_USER: Str('SMTP user name (with SMTP_PASSWORD).'),
  SMTP_PASSWORD: Str('SMTP password.'),
  SMTP_FROM: Str('From address of outgoing mail.', 'Kith <no-reply@localhost>'),
  REDIS_URL: Str('Redis for cache, pub/sub and rate limits. Unset: in-process implementations.'),
  JWT_SIGNING_KEY: Str('Current Ed25519 private key (PKCS#8 PEM or JWK JSON). Required in production.'),
  JWT_VERIFY_KEYS: Str('JSON array of older public JWKs (with kid) still accepted during rotation.'),
  JWT_ISSUER: Str('Access token `iss`.', 'kith'),
  JWT_AUDIENCE: Str('Access token `aud`.', 'kith-api'),
  ACCESS_TOKEN_TTL_SECONDS: Int(60, 3600, 900, 'Access token lifetime.'),
  REFRESH_TOKEN_TTL_DAYS: Int(1, 365, 30, 'Refresh token (session) lifetime.'),
  COOKIE_SECURE: Type.Boolean({ default: true, description: 'Set the Secure flag on the refresh cookie.' }),
  CORS_ORIGINS: Str('Comma list of origins allowed by CORS (and WebSocket Origin checks).', ''),
  TRUST_PROXY: Str('Comma list of proxy addresses/CIDRs whose X-Forwarded-* headers are trusted.', ''),
  BODY_LIMIT_BYTES: Int(1024, 64 * 1024 * 1024, 65_536, 'Default JSON body limit.'),
  JSON_MAX_DEPTH: Int(2, 256, 32, 'Deepest nesting accepted in a JSON body.'),
  HTTP_HEADERS_TIMEOUT_MS: Int(
    100,
    300_000,
    15_000,
    'A client must send its complete request headers within this; a slower one (a slow-header attack) is answered 408 and cut.',
  ),
  HTTP_REQUEST_TIMEOUT_MS: Int(
    1000,
    3_600_000,
    300_000,
    'A client must send its whole request, body included, within this (408 otherwise): bounds slow uploads. At least HTTP_HEADERS_TIMEOUT_MS.',
  ),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Int(
    1000,
    600_000,
    75_000,
    'An idle keep-alive connection is closed after this. Longer than the idle timeout of the proxy in front (nginx upstream keepalive_timeout and AWS ALB: 60 s), so that the proxy, never Kith, closes an idle pooled connection: otherwise a request the proxy sends just as Kith closes fails as a 502.',
  ),
  HTTP_IDLE_TIMEOUT_MS: Int(
    1000,
    3_600_000,
    120_000,
    'A connection on which no byte moves either way for this long while a request is open (a stalled reader or writer) is closed.',
  ),
  HTTP_LINGER_TIMEOUT_MS: Int(
    0,
    60_000,
    5000,
    'After an early answer that closes the connection (413, or a 4xx before the body is read), Kith keeps reading and discarding the body for at most this long, so that the client (fetch, browsers) reads the answer instead of a connection reset.',
  ),
  HTTP_LINGER_MAX_BYTES: Int(
    0,
    1024 ** 3,
    64 * 1024 * 1024,
    'The most bytes of such a body Kith reads and discards before closing the connection anyway.',
  ),
  MAX_EVENT_LOOP_DELAY_MS: Int(0, 60_000, 1000, 'Shed load (503) above this event-loop delay; 0 disables.'),
  MAX_HEAP_USED_BYTES: Int(0, 64 * 1024 ** 3, 0, 'Shed load above this heap usage; 0 disables.'),
  MAX_EVENT_LOOP_UTILIZATION: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0,
    description:
      'Shed load above this event-loop utilization (e.g. 0.98); 0 disables. Off by default: start-up alone can pass 0.98.',
  }),
  METRICS_TOKEN: Str('Bearer token required for /metrics on the main port.'),
  METRICS_PORT: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, description: 'Serve /metrics on this separate port.' }),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: Str('OTLP/HTTP endpoint; enables OpenTelemetry tracing.'),
  OTEL_SERVICE_NAME: Str('Service name on traces.', 'kith'),
  OTEL_TRACES_SAMPLER_RATIO: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 1,
    description:
      'Share of new traces kept (parent-based: jobs, broker deliveries and queries follow the request that caused them).',
  }),
  SENTRY_DSN: Str('Sentry-compatible DSN for error reports; unset: no-op.'),
  SHUTDOWN_TIMEOUT_MS: Int(0, 120_000, 10_000, 'How long in-flight requests may take after SIGTERM.'),
  READYZ_TIMEOUT_MS: Int(50, 30_000, 2000, 'Database check timeout for /readyz.'),
  ARGON2_MEMORY_KIB: Int(19_456, 1_048_576, 19_456, 'argon2id memory cost (OWASP minimum 19 MiB).'),
  ARGON2_TIME_COST: Int(2, 20, 2, 'argon2id iterations.'),
  ARGON2_PARALLELISM: Int(1, 16, 1, 'argon2id lanes.'),
  RATE_LIMIT_DEFAULT_PER_MINUTE: Int(1, 1_000_000, 600, 'Default requests per minute per user (or IP).'),
  RATE_LIMIT_UNVERIFIED_PER_HOUR: Int(
    0,
    1_000_000,
    20,
    'Until its e-mail address is verified, an account may make this many posts, comments, friend requests and new conversations per hour (each kind counted on its own) and ten times as many chat messages over REST (0: no extra limit). See docs/mail.md.',
  ),
  RATE_LIMIT_LOGIN_ACCOUNT: Int(1, 10_000, 10, 'Login attempts per account per 15 minutes.'),
  RATE_LIMIT_LOGIN_IP: Int(1, 1_000_000, 100, 'Login attempts per IP per 15 minutes.'),
  RATE_LIMIT_SIGNUP_IP: Int(1, 1_000_000, 20, 'Signups per IP per hour.'),
  TWO_FACTOR_MAX_FAILURES: Int(
    1,
    1000,
    10,
    'Wrong second factors (TOTP, recovery code, passkey) in a row that lock an account’s sign-in.',
  ),
  TWO_FACTOR_LOCK_MINUTES: Int(1, 7 * 24 * 60, 15, 'How long such a lock lasts, in minutes.'),
  REPORTS_PER_HOUR: Int(1, 10_000, 20, 'Reports one user may file per hour (429 past it).'),
  WORKER_CONCURRENCY: Int(1, 100, 4, 'Jobs run at once by the worker role.'),
  FRIEND_CAP: Int(1, 100_000, 5000, 'Most friends one user may have.'),
  FEED_INACTIVE_DAYS: Int(
    1,
    365,
    14,
    'Users inactive this long get no feed fan-out; their feed is rebuilt at login.',
  ),
  FEED_CACHE_TTL_SECONDS: Int(0, 3600, 30, 'TTL of the cached first feed page (0 disables the cache).'),
  FEED_NEW_EVENT_WINDOW_MS: Int(
    0,
    60_000,
    2000,
    'Coalescing window of the realtime feed.new event: posts fanned out to a reader within it make one event (0: one per post).',
  ),
  ACCOUNT_RETENTION_DAYS: Int(0, 3650, 30, 'Days between account deletion and erasure of its data.'),
  COLLECTION_MAX_ITEMS: Int(1, 10_000, 1000, 'Most posts one collection may hold.'),
  IDEMPOTENCY_TTL_HOURS: Int(1, 720, 24, 'How long Idempotency-Key records are kept.'),
  BACKUP_TARGET: Str(
    'Where backups go: a directory, or s3://bucket/prefix (with the S3_* credentials). Unset: `npm run backup` writes under DATA_DIR/backups and the worker schedules none.',
  ),
  BACKUP_KEEP_DAILY: Int(1, 366, 7, 'Backups kept: the newest of each of this many days.'),
  BACKUP_KEEP_WEEKLY: Int(
    0,
    520,
    4,
    'Backups kept beyond the daily ones: the newest of each of this many ISO weeks.',
  ),
  BACKUP_SCHEDULE: Str("Cron schedule of the worker's backup job (when BACKUP_TARGET is set).", '30 3 * * *'),
  BACKUP_VERIFY_SCHEDULE: Str(
    "Cron schedule of the worker's restore drill (restore the latest backup into a scratch database and compare).",
    '30 5 * * *',
  ),
  PG_BIN_DIR: Str(
    "Directory of pg_dump/pg_restore (their major version must be at least the server's). Unset: /usr/local/bin, /usr/bin, then /usr/lib/postgresql/<newest>/bin.",
  ),
  ASSET_ORIGIN: Type.Optional(
    Type.String({
      pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$',
      description:
        "Origin of a CDN serving the web app's built files (/assets/*, e.g. https://cdn.kith.example): index.html points its scripts and styles there and the CSP allows it. Unset: served by Kith (or the proxy) itself.",
    }),
  ),
  S3_ENDPOINT: Str('S3-compatible endpoint URL (MinIO, R2, s3rver…); unset with S3_BUCKET set: AWS S3.'),
  S3_BUCKET: Str('Bucket for media; set: media is stored in S3 instead of DATA_DIR/media.'),
  S3_REGION: Str('S3 region.', 'us-east-1'),
  S3_ACCESS_KEY_ID: Str('S3 access key id; unset: the AWS SDK default credential chain.'),
  S3_SECRET_ACCESS_KEY: Str('S3 secret access key.'),
  S3_FORCE_PATH_STYLE: Type.Boolean({
    default: false,
    description: 'Address the bucket as endpoint/bucket (MinIO, s3rver) rather than bucket.endpoint.',
  }),
  MEDIA_MAX_BYTES: Int(1024, 1024 ** 3, 15 * 1024 * 1024, 'Largest image upload accepted, in bytes.'),
  MEDIA_MAX_PIXELS: Int(
    1,
    1_000_000_000,
    40_000_000,
    'Most pixels (width × height × frames) an image may declare; checked before decoding.',
  ),
  MEDIA_MAX_FRAMES: Int(
    1,
    100_000,
    500,
    'Most frames an animation keeps; a longer one (or one beyond MEDIA_MAX_PIXELS over all its frames) becomes its first frame. Checked before decoding.',
  ),
  MEDIA_QUOTA_BYTES: Int(
    0,
    2 ** 50,
    1024 ** 3,
    'Storage each user may fill with media (originals and variants), in bytes.',
  ),
  MEDIA_UPLOADS_PER_HOUR: Int(1, 1_000_000, 60, 'Image uploads per user per hour.'),
  MEDIA_PROCESS_CONCURRENCY: Int(
    1,
    64,
    2,
    'Images processed at once per worker process, one libvips thread each: bounds its memory.',
  ),
  MEDIA_SIGNING_SECRET: Str(
    'Secret (≥ 32 characters) signing URLs of private media on disk. Generated under DATA_DIR in development; required in production.',
  ),
  MEDIA_URL_TTL_SECONDS: Int(60, 7 * 24 * 3600, 3600, 'Lifetime of signed URLs to private media.'),
  WEB_PUSH_VAPID_PUBLIC_KEY: Str(
    'VAPID public key (base64url, uncompressed P-256 point) for Web Push, with WEB_PUSH_VAPID_PRIVATE_KEY. Unset: outside production a pair is generated once and kept under DATA_DIR (web-push-vapid.json); in production, Web Push is off.',
  ),
  WEB_PUSH_VAPID_PRIVATE_KEY: Str(
    'VAPID private key (base64url, 32 bytes) matching WEB_PUSH_VAPID_PUBLIC_KEY.',
  ),
  WEB_PUSH_SUBJECT: Type.Optional(
    Type.String({
      pattern: '^(mailto:[^\\s@]+@[^\\s@]+|https://[^\\s]+)$',
      description:
        'VAPID subject push services may contact about Kith: a mailto: address or an https: URL. Unset: PUBLIC_URL when it is https, else mailto:no-reply@localhost.',
    }),
  ),
  WEB_PUSH_ALLOW_PRIVATE_ENDPOINTS: Type.Boolean({
    default: false,
    description:
      'Tests only (refused in production): accept push endpoints on loopback and private addresses, which are otherwise refused (SSRF).',
  }),
  WEB_PUSH_CA_FILE: Str(
    'PEM file of extra CA certificates trusted for push service endpoints (beside the system ones): a TLS-inspecting proxy, or a test push service.',
  ),
  REALTIME_MAX_MESSAGES_PER_10S: Int(
    1,
    100_000,
    200,
    'WebSocket messages one connection may send per 10 s (more: closed with 1008).',
  ),
  REALTIME_MAX_CONNECTIONS_PER_USER: Int(
    1,
    1000,
    10,
    'WebSocket connections per user on one instance (the oldest is closed with 4001).',
  ),
  REALTIME_PING_INTERVAL_MS: Int(50, 600_000, 25_000, 'How often the server pings each WebSocket.'),
  REALTIME_PONG_TIMEOUT_MS: Int(
    50,
    600_000,
    10_000,
    'A socket that has not answered a ping within this is cut.',
  ),
  REALTIME_SEND_BUFFER_SOFT_BYTES: Int(
    1024,
    64 * 1024 ** 2,
    256 * 1024,
    'Above this many unsent bytes on a socket, typing and presence events to it are dropped.',
  ),
  REALTIME_SEND_BUFFER_HARD_BYTES: Int(
    1024,
    256 * 1024 ** 2,
    1024 ** 2,
    'Above this many unsent bytes a socket is closed with 1013 (a slow reader).',
  ),
  REALTIME_DEGRADED_POLL_MS: Int(
    100,
    30_000,
    1000,
    "While Redis is down, how often each gateway polls Postgres for its users' new messages.",
  ),
  REALTIME_TICKET_TTL_SECONDS: Int(5, 300, 30, 'Lifetime of a single-use WebSocket ticket.'),
  REALTIME_TYPING_THROTTLE_MS: Int(
    0,
    60_000,
    2000,
    'Least time between two typing events relayed for one connection and conversation.',
  ),
  REALTIME_REPLAY_BATCH: Int(
    10,
    5000,
    500,
    'Messages read from Postgres per query when a connection resumes or catches up.',
  ),
  REALTIME_RESUME_WAIT_MS: Int(
    0,
    30_000,
    2000,
    'How long a new socket holds live chat messages back for the first frame of its client (a `resume`: replayed from its positions, then the held ones, in order); 0: no wait.',
  ),
  REALTIME_PRESENCE_TTL_SECONDS: Int(
    10,
    3600,
    75,
    'How long a presence entry lives without being refreshed (refreshed every ping interval).',
  ),
  CHAT_GROUP_MAX_MEMBERS: Int(2, 1000, 250, 'Most members of one group conversation, its creator included.'),
  CHAT_FRIENDS_ONLY: Type.Boolean({
    default: true,
    description: 'Conversations only with friends (members are added by a friend of theirs).',
  }),
  CHAT_SEND_QUEUE_MAX: Int(
    1,
    100_000,
    1000,
    'Chat sends that may wait for their database round trip per process; more are refused at once with a retryable error.',
  ),
  CHAT_SEND_TIMEOUT_MS: Int(
    100,
    60_000,
    3000,
    'A chat send round trip the database has not answered by then is given up (its connection closed) and its sends refused as retryable.',
  ),
  CHAT_SEND_BREAKER_FAILURES: Int(
    1,
    100,
    3,
    'Consecutive chat send round trips failing for want of a database (connection, timeout) that open the circuit: sends are then refused at once.',
  ),
  CHAT_SEND_BREAKER_RESET_MS: Int(
    100,
    600_000,
    2000,
    'How long the chat send circuit stays open before one round trip probes the database again.',
  ),
});

type Env = Static<typeof EnvSchema>;

/** Variables that may be given as `NAME_FILE` pointing at a file holding the secret. */
const FILE_VARIANTS = [
  'DATABASE_URL',
  'DATABASE_DIRECT_URL',
  'DATABASE_READ_URLS',
  'REDIS_URL',
  'JWT_SIGNING_KEY',
  'JWT_VERIFY_KEYS',
  'METRICS_TOKEN',
  'SENTRY_DSN',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'MEDIA_SIGNING_SECRET',
  'SMTP_PASSWORD',
  'WEB_PUSH_VAPID_PRIVATE_KEY',
] as const;

export interface Config {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  shape: 'embedded' | 'scaled';
  roles: ReadonlySet<Role>;
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  database: {
    url: string | undefined;
    /** A session-capable connection to the primary (migrations, jobs, backups); DATABASE_URL when unset. */
    directUrl: string | undefined;
    readUrls: readonly string[];
    /** A replica lagging more than this serves no reads. */
    replicaMaxLagMs: number;
    replicaProbeIntervalMs: number;
    poolSize: number;
    statementTimeoutMs: number;
    migrateOnStart: boolean;
  };
  redisUrl: string | undefined;
  /** Base URL of the web app, without a trailing slash. */
  publicUrl: string;
  /** Outgoing mail: SMTP when `smtp` is set, else the local outbox under dataDir/mail. */
  mail: {
    from: string;
    smtp:
      | {
          host: string;
          port: number;
          secure: boolean;
          user: string | undefined;
          password: string | undefined;
        }
      | undefined;
  };
  jwt: {
    signingKey: string | undefined;
    verifyKeys: string | undefined;
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlDays: number;
  };
  cookieSecure: boolean;
  corsOrigins: readonly string[];
  trustProxy: readonly string[];
  bodyLimit: number;
  jsonMaxDepth: number;
  /** Socket-level limits: slow clients are cut, early answers are read (see HTTP_* variables). */
  http: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    idleTimeoutMs: number;
    lingerTimeoutMs: number;
    lingerMaxBytes: number;
  };
  pressure: { maxEventLoopDelayMs: number; maxHeapUsedBytes: number; maxEventLoopUtilization: number };
  metrics: { token: string | undefined; port: number | undefined };
  otel: { endpoint: string | undefined; serviceName: string; samplerRatio: number };
  sentryDsn: string | undefined;
  shutdownTimeoutMs: number;
  readyzTimeoutMs: number;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  rateLimit: {
    defaultPerMinute: number;
    loginAccount: number;
    loginIp: number;
    signupIp: number;
    /** Writes per hour per kind of an account whose address is not verified (0: no extra limit). */
    unverifiedPerHour: number;
  };
  /** Second-factor lock: this many wrong ones in a row lock sign-in for lockMinutes. */
  twoFactor: { maxFailures: number; lockMinutes: number };
  reports: { perHour: number };
  workerConcurrency: number;
  idempotencyTtlHours: number;
  backup: {
    target: string | undefined;
    keepDaily: number;
    keepWeekly: number;
    schedule: string;
    verifySchedule: string;
    pgBinDir: string | undefined;
  };
  /** A CDN origin for the web app's built files; undefined: same origin. */
  assetOrigin: string | undefined;
  /** Set when media is stored in S3 (S3_BUCKET); otherwise on disk under dataDir/media. */
  s3:
    | {
        endpoint: string | undefined;
        bucket: string;
        region: string;
        accessKeyId: string | undefined;
        secretAccessKey: string | undefined;
        forcePathStyle: boolean;
      }
    | undefined;
  media: {
    maxBytes: number;
    maxPixels: number;
    maxFrames: number;
    quotaBytes: number;
    uploadsPerHour: number;
    processConcurrency: number;
    signingSecret: string | undefined;
    urlTtlSeconds: number;
  };
  realtime: {
    maxMessagesPer10s: number;
    maxConnectionsPerUser: number;
    pingIntervalMs: number;
    pongTimeoutMs: number;
    sendBufferSoftBytes: number;
    sendBufferHardBytes: number;
    degradedPollMs: number;
    ticketTtlSeconds: number;
    typingThrottleMs: number;
    replayBatch: number;
    resumeWaitMs: number;
    presenceTtlSeconds: number;
  };
  /** Web Push: VAPID keys (generated under dataDir outside production when unset). */
  push: {
    vapid: { publicKey: string; privateKey: string } | undefined;
    subject: string;
    /** Tests only: endpoints on loopback/private addresses are accepted. */
    allowPrivateEndpoints: boolean;
    /** Extra CA certificates (PEM file) for push endpoints. */
    caFile: string | undefined;
  };
  social: {
    friendCap: number;
    feedInactiveDays: number;
    feedCacheTtlSeconds: number;
    feedNewWindowMs: number;
    accountRetentionDays: number;
    collectionMaxItems: number;
  };
  chat: {
    groupMaxMembers: number;
    friendsOnly: boolean;
    /** The chat send path under database trouble (SendBatcher). */
    send: { queueMax: number; timeoutMs: number; breakerFailures: number; breakerResetMs: number };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Why `value` does not fit `schema`, in one line; undefined when it fits. */
function problemWith(schema: TSchema, value: unknown): string | undefined {
  if (value === undefined || Value.Check(schema, value)) return undefined;
  const options = (schema as { anyOf?: { const?: unknown }[] }).anyOf?.map((s) => s.const);
  if (options?.every((o) => typeof o === 'string')) return `must be one of ${options.join(', ')}`;
  const [first] = Value.Errors(schema, value);
  return first?.message ?? 'is invalid';
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function deepFreeze<T>(obj: T): T {
  for (const value of Object.values(obj as object)) {
    if (value && typeof value === 'object' && !Object.isFrozen(value)) deepFreeze(value);
  }
  return Object.freeze(obj);
}

/** Parses the environment once; throws ConfigError listing every problem. */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  argv: readonly string[] = [],
): Config {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  const known = new Set(Object.keys(EnvSchema.properties));
  for (const key of known) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const key of FILE_VARIANTS) {
    const file = source[`${key}_FILE`];
    if (!file) continue;
    if (raw[key] !== undefined) {
      problems.push(`${key} and ${key}_FILE are both set; give only one`);
      continue;
    }
    try {
      raw[key] = readFileSync(file, 'utf8').trim();
    } catch (err) {
      problems.push(`${key}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const roleArg = argv.find((a) => a === '--role' || a.startsWith('--role='));
  if (roleArg) {
    const value = roleArg.includes('=') ? roleArg.slice('--role='.length) : argv[argv.indexOf(roleArg) + 1];
    raw.KITH_ROLES = value ?? '';
  }

  const withDefaults = Value.Default(EnvSchema, Value.Convert(EnvSchema, raw)) as Record<string, unknown>;
  // Checked one variable at a time: a whole-object check stops after a few errors (TypeBox's
  // maxErrors), and every problem must be listed at once.
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    const problem = problemWith(schema, withDefaults[key]);
    if (!problem) continue;
    const secret = (FILE_VARIANTS as readonly string[]).includes(key);
    problems.push(`${key}: ${problem}${secret ? '' : ` (got ${JSON.stringify(raw[key])})`}`);
  }
  const env = withDefaults as Env;
  const isProduction = env.NODE_ENV === 'production';
  if (isProduction) {
    if (!env.JWT_SIGNING_KEY) problems.push('JWT_SIGNING_KEY: required when NODE_ENV=production');
    if (!env.DATABASE_URL) problems.push('DATABASE_URL: required when NODE_ENV=production');
    if (!env.METRICS_TOKEN && env.METRICS_PORT === undefined)
      problems.push('METRICS_TOKEN or METRICS_PORT: one is required when NODE_ENV=production');
    if (!env.MEDIA_SIGNING_SECRET) problems.push('MEDIA_SIGNING_SECRET: required when NODE_ENV=production');
  }
  if ((env.WEB_PUSH_VAPID_PUBLIC_KEY === undefined) !== (env.WEB_PUSH_VAPID_PRIVATE_KEY === undefined))
    problems.push('WEB_PUSH_VAPID_PUBLIC_KEY and WEB_PUSH_VAPID_PRIVATE_KEY: give both or neither');
  if (
    env.WEB_PUSH_VAPID_PUBLIC_KEY !== undefined &&
    !/^[A-Za-z0-9_-]{87}$/.test(env.WEB_PUSH_VAPID_PUBLIC_KEY)
  )
    problems.push('WEB_PUSH_VAPID_PUBLIC_KEY: must be 65 bytes in base64url (87 characters)');
  if (
    env.WEB_PUSH_VAPID_PRIVATE_KEY !== undefined &&
    !/^[A-Za-z0-9_-]{43}$/.test(env.WEB_PUSH_VAPID_PRIVATE_KEY)
  )
    problems.push('WEB_PUSH_VAPID_PRIVATE_KEY: must be 32 bytes in base64url (43 characters)');
  else if (
    env.WEB_PUSH_VAPID_PRIVATE_KEY !== undefined &&
    env.WEB_PUSH_VAPID_PUBLIC_KEY !== undefined &&
    vapidPublicKeyOf(env.WEB_PUSH_VAPID_PRIVATE_KEY) !== env.WEB_PUSH_VAPID_PUBLIC_KEY
  )
    problems.push(
      'WEB_PUSH_VAPID_PUBLIC_KEY and WEB_PUSH_VAPID_PRIVATE_KEY: not one key pair (the public key is not the private key’s)',
    );
  if (isProduction && env.WEB_PUSH_ALLOW_PRIVATE_ENDPOINTS)
    problems.push('WEB_PUSH_ALLOW_PRIVATE_ENDPOINTS: not allowed when NODE_ENV=production');
  if (env.MEDIA_SIGNING_SECRET !== undefined && env.MEDIA_SIGNING_SECRET.length < 32)
    problems.push('MEDIA_SIGNING_SECRET: must be at least 32 characters');
  if ((env.SMTP_USER === undefined) !== (env.SMTP_PASSWORD === undefined))
    problems.push('SMTP_USER and SMTP_PASSWORD: give both or neither');
  if (!env.SMTP_HOST && env.SMTP_USER) problems.push('SMTP_HOST: required when SMTP_USER is set');
  if (!/^https?:\/\/[^/\s]+(\/[^\s]*)?$/.test(env.PUBLIC_URL))
    problems.push(`PUBLIC_URL: must be an http(s) URL (got ${JSON.stringify(env.PUBLIC_URL)})`);
  if (!env.S3_BUCKET && (env.S3_ENDPOINT || env.S3_ACCESS_KEY_ID))
    problems.push('S3_BUCKET: required when other S3_* variables are set');
  if ((env.S3_ACCESS_KEY_ID === undefined) !== (env.S3_SECRET_ACCESS_KEY === undefined))
    problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: give both or neither');
  for (const [key, value] of [
    ['DATABASE_URL', env.DATABASE_URL],
    ['REDIS_URL', env.REDIS_URL],
    ['S3_ENDPOINT', env.S3_ENDPOINT],
    ...list(env.DATABASE_READ_URLS).map((u) => ['DATABASE_READ_URLS', u] as const),
  ] as const) {
    if (value && !URL.canParse(value)) problems.push(`${key}: not a valid URL`);
  }
  // Node refuses to start a server whose headers may take longer than the whole request
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS)
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  if (env.REALTIME_SEND_BUFFER_SOFT_BYTES > env.REALTIME_SEND_BUFFER_HARD_BYTES)
    problems.push('REALTIME_SEND_BUFFER_SOFT_BYTES: must not exceed REALTIME_SEND_BUFFER_HARD_BYTES');
  if (problems.length > 0) throw new ConfigError(problems);

  // `npm start` runs in the workspace's folder; INIT_CWD is where the user typed it, so that the
  // default ./data is the repository's (as the README says), not apps/server's.
  const baseDir = source.INIT_CWD || process.cwd();
  const dataDir = isAbsolute(env.DATA_DIR) ? env.DATA_DIR : resolve(baseDir, env.DATA_DIR);
  const embedded = !env.DATABASE_URL;
  return deepFreeze({
    env: env.NODE_ENV,
    isProduction,
    shape: embedded ? 'embedded' : 'scaled',
    roles: new Set(list(env.KITH_ROLES) as Role[]),
    host: env.HOST,
    port: env.PORT,
    dataDir,
    logLevel: env.LOG_LEVEL,
    database: {
      url: env.DATABASE_URL,
      directUrl: env.DATABASE_DIRECT_URL ?? env.DATABASE_URL,
      readUrls: list(env.DATABASE_READ_URLS),
      replicaMaxLagMs: env.DATABASE_REPLICA_MAX_LAG_MS,
      replicaProbeIntervalMs: env.DATABASE_REPLICA_PROBE_INTERVAL_MS,
      poolSize: env.DATABASE_POOL_SIZE,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      migrateOnStart: env.MIGRATE_ON_START ?? embedded,
    },
    publicUrl: env.PUBLIC_URL.replace(/\/+$/, ''),
    mail: {
      from: env.SMTP_FROM,
      smtp: env.SMTP_HOST
        ? {
            host: env.SMTP_HOST,
            port: env.SMTP_PORT,
            secure: env.SMTP_SECURE,
            user: env.SMTP_USER,
            password: env.SMTP_PASSWORD,
          }
        : undefined,
    },
    redisUrl: env.REDIS_URL,
    jwt: {
      signingKey: env.JWT_SIGNING_KEY,
      verifyKeys: env.JWT_VERIFY_KEYS,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
    },
    cookieSecure: env.COOKIE_SECURE,
    corsOrigins: list(env.CORS_ORIGINS),
    trustProxy: list(env.TRUST_PROXY),
    bodyLimit: env.BODY_LIMIT_BYTES,
    jsonMaxDepth: env.JSON_MAX_DEPTH,
    http: {
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      idleTimeoutMs: env.HTTP_IDLE_TIMEOUT_MS,
      lingerTimeoutMs: env.HTTP_LINGER_TIMEOUT_MS,
      lingerMaxBytes: env.HTTP_LINGER_MAX_BYTES,
    },
    pressure: {
      maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: env.MAX_HEAP_USED_BYTES,
      maxEventLoopUtilization: env.MAX_EVENT_LOOP_UTILIZATION,
    },
    metrics: { token: env.METRICS_TOKEN, port: env.METRICS_PORT },
    otel: {
      endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: env.OTEL_SERVICE_NAME,
      samplerRatio: env.OTEL_TRACES_SAMPLER_RATIO,
    },
    sentryDsn: env.SENTRY_DSN,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    readyzTimeoutMs: env.READYZ_TIMEOUT_MS,
    argon2: {
      memoryCost: env.ARGON2_MEMORY_KIB,
      timeCost: env.ARGON2_TIME_COST,
      parallelism: env.ARGON2_PARALLELISM,
    },
    rateLimit: {
      defaultPerMinute: env.RATE_LIMIT_DEFAULT_PER_MINUTE,
      loginAccount: env.RATE_LIMIT_LOGIN_ACCOUNT,
      loginIp: env.RATE_LIMIT_LOGIN_IP,
      signupIp: env.RATE_LIMIT_SIGNUP_IP,
      unverifiedPerHour: env.RATE_LIMIT_UNVERIFIED_PER_HOUR,
    },
    twoFactor: { maxFailures: env.TWO_FACTOR_MAX_FAILURES, lockMinutes: env.TWO_FACTOR_LOCK_MINUTES },
    reports: { perHour: env.REPORTS_PER_HOUR },
    workerConcurrency: env.WORKER_CONCURRENCY,
    idempotencyTtlHours: env.IDEMPOTENCY_TTL_HOURS,
    backup: {
      target: env.BACKUP_TARGET,
      keepDaily: env.BACKUP_KEEP_DAILY,
      keepWeekly: env.BACKUP_KEEP_WEEKLY,
      schedule: env.BACKUP_SCHEDULE,
      verifySchedule: env.BACKUP_VERIFY_SCHEDULE,
      pgBinDir: env.PG_BIN_DIR,
    },
    assetOrigin: env.ASSET_ORIGIN,
    s3: env.S3_BUCKET
      ? {
          endpoint: env.S3_ENDPOINT,
          bucket: env.S3_BUCKET,
          region: env.S3_REGION,
          accessKeyId: env.S3_ACCESS_KEY_ID,
          secretAccessKey: env.S3_SECRET_ACCESS_KEY,
          forcePathStyle: env.S3_FORCE_PATH_STYLE,
        }
      : undefined,
    media: {
      maxBytes: env.MEDIA_MAX_BYTES,
      maxPixels: env.MEDIA_MAX_PIXELS,
      maxFrames: env.MEDIA_MAX_FRAMES,
      quotaBytes: env.MEDIA_QUOTA_BYTES,
      uploadsPerHour: env.MEDIA_UPLOADS_PER_HOUR,
      processConcurrency: env.MEDIA_PROCESS_CONCURRENCY,
      signingSecret: env.MEDIA_SIGNING_SECRET,
      urlTtlSeconds: env.MEDIA_URL_TTL_SECONDS,
    },
    realtime: {
      maxMessagesPer10s: env.REALTIME_MAX_MESSAGES_PER_10S,
      maxConnectionsPerUser: env.REALTIME_MAX_CONNECTIONS_PER_USER,
      pingIntervalMs: env.REALTIME_PING_INTERVAL_MS,
      pongTimeoutMs: env.REALTIME_PONG_TIMEOUT_MS,
      sendBufferSoftBytes: env.REALTIME_SEND_BUFFER_SOFT_BYTES,
      sendBufferHardBytes: env.REALTIME_SEND_BUFFER_HARD_BYTES,
      degradedPollMs: env.REALTIME_DEGRADED_POLL_MS,
      ticketTtlSeconds: env.REALTIME_TICKET_TTL_SECONDS,
      typingThrottleMs: env.REALTIME_TYPING_THROTTLE_MS,
      replayBatch: env.REALTIME_REPLAY_BATCH,
      resumeWaitMs: env.REALTIME_RESUME_WAIT_MS,
      presenceTtlSeconds: env.REALTIME_PRESENCE_TTL_SECONDS,
    },
    push: {
      vapid:
        env.WEB_PUSH_VAPID_PUBLIC_KEY && env.WEB_PUSH_VAPID_PRIVATE_KEY
          ? { publicKey: env.WEB_PUSH_VAPID_PUBLIC_KEY, privateKey: env.WEB_PUSH_VAPID_PRIVATE_KEY }
          : undefined,
      subject:
        env.WEB_PUSH_SUBJECT ??
        (env.PUBLIC_URL.startsWith('https://')
          ? env.PUBLIC_URL.replace(/\/+$/, '')
          : 'mailto:no-reply@localhost'),
      allowPrivateEndpoints: env.WEB_PUSH_ALLOW_PRIVATE_ENDPOINTS,
      caFile: env.WEB_PUSH_CA_FILE,
    },
    social: {
      friendCap: env.FRIEND_CAP,
      feedInactiveDays: env.FEED_INACTIVE_DAYS,
      feedCacheTtlSeconds: env.FEED_CACHE_TTL_SECONDS,
      feedNewWindowMs: env.FEED_NEW_EVENT_WINDOW_MS,
      accountRetentionDays: env.ACCOUNT_RETENTION_DAYS,
      collectionMaxItems: env.COLLECTION_MAX_ITEMS,
    },
    chat: {
      groupMaxMembers: env.CHAT_GROUP_MAX_MEMBERS,
      friendsOnly: env.CHAT_FRIENDS_ONLY,
      send: {
        queueMax: env.CHAT_SEND_QUEUE_MAX,
        timeoutMs: env.CHAT_SEND_TIMEOUT_MS,
        breakerFailures: env.CHAT_SEND_BREAKER_FAILURES,
        breakerResetMs: env.CHAT_SEND_BREAKER_RESET_MS,
      },
    },
  } satisfies Config);
}
