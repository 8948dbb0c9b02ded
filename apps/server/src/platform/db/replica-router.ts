import pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Cache } from '../cache/cache.ts';
import { classifyDbError, sqlState } from './db-errors.ts';
import { currentReadContext } from './read-context.ts';

export interface ReplicaRouterOptions {
  /** A replica whose replay lag is above this serves no reads until it is back under. */
  maxLagMs: number;
  /** How often the primary's WAL position and each replica's replay position are read. */
  probeIntervalMs: number;
  /** A probe not answered by then counts as a failure (the replica is marked down). */
  probeTimeoutMs?: number;
  /** Milliseconds now (tests may pass a clock). */
  now?: () => number;
  /** Told when a replica goes down or comes back (logging). */
  onHealthChange?: (change: { replica: string; healthy: boolean; reason?: string }) => void;
}

/** Why a lag-tolerant read went where it went (the `reason` label of kith_db_reads_total). */
export type ReadReason =
  /** no replica configured */
  | 'no_replica'
  /** a replica within the lag bound (and past the user's last write) served it */
  | 'replica'
  /** the request itself writes: its reads see its writes */
  | 'request_wrote'
  /** the user wrote recently and no replica has replayed that write yet */
  | 'read_your_writes'
  /** every replica that is up lags more than the bound */
  | 'lag'
  /** no replica is up (or none has been probed yet) */
  | 'down'
  /** the replica failed while serving it (connection lost, recovery conflict): run again on the primary */
  | 'retry';

export interface ReplicaStatus {
  name: string;
  healthy: boolean;
  /** Replay lag seen by the last probe; undefined until a probe succeeded with a primary sample. */
  lagMs: number | undefined;
  replayLsn: bigint;
  lastError?: string;
}

export interface ReplicaEndpoint {
  /** Names the replica in metrics and logs (host:port/database; never the credentials). */
  name: string;
  pool: pg.Pool;
  /** The probe's own connection (not a pool slot: a hung replica must not starve reads). */
  url: string;
}

export type Route = { pool: pg.Pool; name: 'primary' | 'replica'; reason: ReadReason; replica?: Replica };

interface Replica extends ReplicaStatus {
  pool: pg.Pool;
  probe: ProbeConnection;
}

/** One observed WAL position of the primary: first and last time a probe saw it. */
interface Sample {
  lsn: bigint;
  firstSeen: number;
  lastSeen: number;
}

const MAX_SAMPLES = 10_000;
/** A watermark that no replica reaches: the user's reads stay on the primary until it expires. */
const ALWAYS_PRIMARY = (1n << 64n) - 1n;

/** `16/B374D848` → 0x16B374D848. */
export function parseLsn(text: string | null | undefined): bigint {
  if (!text) return 0n;
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** WAL page header sizes (short; long, at the start of a segment) on 64-bit builds. */
const SHORT_PAGE_HEADER = 24n;
const LONG_PAGE_HEADER = 40n;

/**
 * The insert position as an end-of-record position. At a page boundary the primary reports the
 * insert position past the next page's header, while a replica's replay position is the end of the
 * last record (the boundary itself): taken as is, a watermark there would not be reached until more
 * WAL came. No record starts inside a page header, so such an offset can only mean the boundary.
 */
export function insertToEnd(lsn: bigint, blockSize: bigint, segmentSize: bigint): bigint {
  if (lsn % segmentSize === LONG_PAGE_HEADER) return lsn - LONG_PAGE_HEADER;
  if (lsn % blockSize === SHORT_PAGE_HEADER) return lsn - SHORT_PAGE_HEADER;
  return lsn;
}

/** `postgres://user:secret@host:5432/kith?x` → `host:5432/kith`. */
export function replicaName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'replica';
  }
}

const watermarkKey = (userId: string) => `db:ryw:${userId}`;

/**
 * Decides, for each lag-tolerant read, whether a replica or the primary serves it.
 *
 * Lag is measured by WAL position, not by `now() - pg_last_xact_replay_timestamp()`: that one grows
 * while the primary is idle (no commit to replay, yet nothing is missing) and compares two hosts'
 * clocks. Instead, every `probeIntervalMs` the router reads the primary's `pg_current_wal_lsn()`
 * and keeps the history of positions with the times it saw them (on its own clock), then reads each
 * replica's `pg_last_wal_replay_lsn()`. A replica that has replayed position L has every commit the
 * primary had made when the router last saw it at L: its lag is the time since then (0 once it has
 * replayed the newest position). An idle primary keeps one position, so its replicas stay at 0; a
 * paused or slow replica's lag grows with the clock. The bound is checked against the last probe,
 * so a read may be up to `maxLagMs + probeIntervalMs` stale.
 *
 * Read-your-writes: a request with a mutating method reads only from the primary; when it ends,
 * `noteWrites` stores the primary's WAL position for its user in the cache (Redis in the scaled
 * shape, so every instance sees it) for a little longer than the lag bound. That user's reads go to
 * a replica only once its replay position (as last probed) has reached the stored one.
 *
 * A replica whose probe fails, or that fails a read with a connection error, is marked down at
 * once (the read runs again on the primary) and probed again on the next tick.
 */
export class ReplicaRouter {
  private readonly replicas: Replica[];
  private readonly primaryProbe: ProbeConnection;
  private readonly samples: Sample[] = [];
  private readonly now: () => number;
  private readonly probeTimeoutMs: number;
  private watermarks: Cache | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private next = 0;
  private readonly reads: Counter<'pool' | 'reason'>;
  private readonly lag: Gauge<'replica'>;
  private readonly healthy: Gauge<'replica'>;

  constructor(
    private readonly primary: { pool: pg.Pool; url: string },
    replicas: readonly ReplicaEndpoint[],
    private readonly options: ReplicaRouterOptions,
    registry: Registry,
  ) {
    this.now = options.now ?? Date.now;
    this.probeTimeoutMs = options.probeTimeoutMs ?? Math.max(1000, 2 * options.probeIntervalMs);
    this.primaryProbe = new ProbeConnection(primary.url, this.probeTimeoutMs);
    this.replicas = replicas.map((r) => ({
      name: r.name,
      pool: r.pool,
      probe: new ProbeConnection(r.url, this.probeTimeoutMs),
      healthy: false,
      lagMs: undefined,
      replayLsn: 0n,
    }));
    this.reads = metric(
      registry,
      'kith_db_reads_total',
      () =>
        new Counter({
          name: 'kith_db_reads_total',
          help: 'Lag-tolerant reads by the pool that served them (primary, replica) and why (replica, no_replica, request_wrote, read_your_writes, lag, down, retry)',
          labelNames: ['pool', 'reason'] as const,
          registers: [registry],
        }),
    );
    this.lag = metric(
      registry,
      'kith_db_replica_lag_seconds',
      () =>
        new Gauge({
          name: 'kith_db_replica_lag_seconds',
          help: 'Replay lag of each read replica as the last probe saw it (time since the primary was at the position it has replayed)',
          labelNames: ['replica'] as const,
          registers: [registry],
        }),
    );
    this.healthy = metric(
      registry,
      'kith_db_replica_healthy',
      () =>
        new Gauge({
          name: 'kith_db_replica_healthy',
          help: 'Whether each read replica answers its probe (1) or is down (0)',
          labelNames: ['replica'] as const,
          registers: [registry],
        }),
    );
    metric(
      registry,
      'kith_db_replica_max_lag_seconds',
      () =>
        new Gauge({
          name: 'kith_db_replica_max_lag_seconds',
          help: 'The configured lag bound (DATABASE_REPLICA_MAX_LAG_MS): a replica lagging more serves no reads',
          registers: [registry],
        }),
    ).set(options.maxLagMs / 1000);
    for (const r of this.replicas) this.healthy.set({ replica: r.name }, 0);
  }

  get hasReplicas(): boolean {
    return this.replicas.length > 0;
  }

  /** The cache that carries read-your-writes watermarks between instances. */
  useWatermarks(cache: Cache): void {
    this.watermarks = cache;
  }

  /** Probes now and then every `probeIntervalMs` until `stop()`. Nothing to do without replicas. */
  start(): void {
    if (!this.hasReplicas || this.timer || this.stopped) return;
    const tick = () => {
      this.running = this.probe().finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.options.probeIntervalMs);
        this.timer.unref();
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await Promise.all([this.primaryProbe.close(), ...this.replicas.map((r) => r.probe.close())]);
  }

  status(): ReplicaStatus[] {
    return this.replicas.map(({ name, healthy, lagMs, replayLsn, lastError }) => ({
      name,
      healthy,
      lagMs,
      replayLsn,
      ...(lastError ? { lastError } : {}),
    }));
  }

  /** One probe round: the primary's position first, then every replica's replay position. */
  async probe(): Promise<void> {
    if (!this.hasReplicas) return;
    try {
      const t = this.now();
      const { rows } = await this.primaryProbe.query<{ lsn: string }>(
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      this.sample(parseLsn(rows[0]?.lsn), t);
    } catch {
      // the primary did not answer: replicas are judged against the positions seen so far
    }
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const { rows } = await replica.probe.query<{ standby: boolean; lsn: string | null }>(
            `SELECT pg_is_in_recovery() AS standby,
                    (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn`,
          );
          const row = rows[0]!;
          replica.replayLsn = parseLsn(row.lsn);
          // not a standby (a read URL pointing at a primary): it has every commit
          replica.lagMs = row.standby ? this.lagOf(replica.replayLsn, this.now()) : 0;
          delete replica.lastError;
          if (replica.lagMs !== undefined) this.lag.set({ replica: replica.name }, replica.lagMs / 1000);
          this.setHealthy(replica, true);
        } catch (err) {
          this.markDown(replica, err);
        }
      }),
    );
  }

  /** Where the next lag-tolerant read goes (and why). */
  async route(): Promise<Route> {
    const primary = (reason: ReadReason): Route => ({ pool: this.primary.pool, name: 'primary', reason });
    if (!this.hasReplicas) return primary('no_replica');
    const context = currentReadContext();
    if (context?.wrote) return primary('request_wrote');
    const up = this.replicas.filter((r) => r.healthy && r.lagMs !== undefined);
    if (up.length === 0) return primary('down');
    let candidates = up.filter((r) => r.lagMs! <= this.options.maxLagMs);
    if (candidates.length === 0) return primary('lag');
    if (context) {
      context.watermark ??= this.watermarkOf(context.userId());
      const watermark = await context.watermark;
      if (watermark !== undefined) {
        candidates = candidates.filter((r) => r.replayLsn >= watermark);
        if (candidates.length === 0) return primary('read_your_writes');
      }
    }
    this.next = (this.next + 1) % candidates.length;
    const replica = candidates[this.next]!;
    return { pool: replica.pool, name: 'replica', reason: 'replica', replica };
  }

  /** Counts a read the pool `name` served. */
  counted(name: 'primary' | 'replica', reason: ReadReason): void {
    this.reads.inc({ pool: name, reason });
  }

  /**
   * Whether a read that failed on a replica should run again on the primary: the replica lost its
   * connection or could not answer (it is marked down), or replay cancelled the statement (a
   * recovery conflict, SQLSTATE 40001). A statement the replica refused as a write (25006) is a
   * programming error and is not retried anywhere.
   */
  failedOn(replica: Replica, err: unknown): boolean {
    const state = sqlState(err);
    if (state === '25006') return false;
    if (state === '40001') return true;
    if (classifyDbError(err) !== 'unavailable') return false;
    if (state !== '57014') this.markDown(replica, err);
    return true;
  }

  /**
   * Records that `userIds` wrote (or that something they read changed): their lag-tolerant reads
   * stay on the primary until a replica has replayed the primary's current WAL position.
   */
  async noteWrites(userIds: readonly string[]): Promise<void> {
    if (!this.hasReplicas || !this.watermarks || userIds.length === 0) return;
    let lsn = ALWAYS_PRIMARY;
    try {
      // The insert position, not pg_current_wal_lsn() (the write position): with asynchronous
      // commit (synchronous_commit = off) the write just committed may still sit in WAL buffers,
      // behind the write position — a replica that replayed up to that position would pass the
      // watermark without the write. The insert position is past every record inserted so far.
      const { rows } = await this.primary.pool.query<{ lsn: string; block: string; segment: string }>(
        `SELECT pg_current_wal_insert_lsn()::text AS lsn, current_setting('wal_block_size') AS block,
                pg_size_bytes(current_setting('wal_segment_size'))::text AS segment`,
      );
      const row = rows[0];
      lsn = row ? insertToEnd(parseLsn(row.lsn), BigInt(row.block), BigInt(row.segment)) : ALWAYS_PRIMARY;
    } catch {
      // unknown position: the primary serves these users until the record expires
    }
    const ttlSeconds = (this.options.maxLagMs + 2 * this.options.probeIntervalMs + 1000) / 1000;
    const value = lsn.toString(16);
    const cache = this.watermarks;
    await Promise.all(userIds.map((id) => cache.set(watermarkKey(id), value, ttlSeconds)));
  }

  private async watermarkOf(userId: string | undefined): Promise<bigint | undefined> {
    if (!userId || !this.watermarks) return undefined;
    let value: unknown;
    try {
      // from Redis itself: a miss in this instance's outage fallback is not "no recent write"
      value = await this.watermarks.getShared<string>(watermarkKey(userId));
    } catch {
      return ALWAYS_PRIMARY; // unknown: the primary is always fresh
    }
    return typeof value === 'string' && /^[0-9a-f]+$/.test(value) ? BigInt(`0x${value}`) : undefined;
  }

  private markDown(replica: Replica, err: unknown) {
    replica.lastError = err instanceof Error ? err.message : String(err);
    this.setHealthy(replica, false, replica.lastError);
  }

  private setHealthy(replica: Replica, healthy: boolean, reason?: string) {
    this.healthy.set({ replica: replica.name }, healthy ? 1 : 0);
    if (replica.healthy === healthy) return;
    replica.healthy = healthy;
    this.options.onHealthChange?.({ replica: replica.name, healthy, ...(reason ? { reason } : {}) });
  }

  private sample(lsn: bigint, t: number) {
    const last = this.samples[this.samples.length - 1];
    if (last && lsn <= last.lsn) {
      last.lastSeen = t;
      return;
    }
    this.samples.push({ lsn, firstSeen: t, lastSeen: t });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  /** Lag of a replica that has replayed `replay`, judged at `t` (see the class comment). */
  private lagOf(replay: bigint, t: number): number | undefined {
    const newest = this.samples[this.samples.length - 1];
    if (!newest) return undefined;
    if (replay >= newest.lsn) return 0;
    for (let i = this.samples.length - 2; i >= 0; i--) {
      const s = this.samples[i]!;
      if (s.lsn <= replay) return Math.max(0, t - s.lastSeen);
    }
    // older than every position kept: at least this much
    return Math.max(0, t - this.samples[0]!.firstSeen);
  }
}

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * A connection of its own for probes: made when needed, dropped on any failure or timeout (a
 * replica that stopped answering must not leave a probe waiting forever).
 */
class ProbeConnection {
  private current: { client: pg.Client; ready: Promise<void> } | undefined;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async query<R extends pg.QueryResultRow>(text: string): Promise<pg.QueryResult<R>> {
    let timer: NodeJS.Timeout | undefined;
    const client = this.current ?? this.connectNew();
    try {
      return await Promise.race([
        (async () => {
          await client.ready;
          return client.client.query<R>(text);
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`probe not answered within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      this.drop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.drop();
  }

  private connectNew(): { client: pg.Client; ready: Promise<void> } {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.timeoutMs,
      application_name: 'kith-replica-probe',
    });
    client.on('error', () => this.drop());
    const ready = client.connect().then(() => {});
    ready.catch(() => {});
    const current = { client, ready };
    this.current = current;
    return current;
  }

  private drop() {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    current.client.end().catch(() => {});
    // a server that does not answer never acknowledges the goodbye: close the socket now
    (
      current.client as unknown as { connection?: { stream?: { destroy(): void } } }
    ).connection?.stream?.destroy();
  }
}
