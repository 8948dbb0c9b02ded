import { sql } from 'kysely';
import pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { uuidv7 } from 'uuidv7';
import type { Database } from '../db/database.ts';
import { scrapeCache } from '../observability/scrape-cache.ts';

/** Records a backup or restore drill in `backup_runs` (on its own connection: the run may take long). */
export async function recordRun<T extends { location?: string; bytes?: number; detail?: object }>(
  databaseUrl: string,
  kind: 'backup' | 'verify',
  run: () => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: `kith-${kind}` });
  await client.connect();
  const id = uuidv7();
  try {
    await client.query(`INSERT INTO backup_runs (id, kind, status) VALUES ($1, $2, 'running')`, [id, kind]);
    try {
      const result = await run();
      await client.query(
        `UPDATE backup_runs SET status = 'ok', location = $2, bytes = $3, detail = $4, finished_at = now() WHERE id = $1`,
        [id, result.location ?? null, result.bytes ?? null, JSON.stringify(result.detail ?? {})],
      );
      return result;
    } catch (err) {
      await client
        .query(`UPDATE backup_runs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, [
          id,
          err instanceof Error ? err.message.slice(0, 2000) : String(err),
        ])
        .catch(() => {});
      throw err;
    }
  } finally {
    await client.end().catch(() => {});
  }
}

interface Latest {
  kind: 'backup' | 'verify';
  last_ok: number | null;
  last_failed: number | null;
  bytes: string | null;
  duration: number | null;
}

/**
 * Backup gauges, read from `backup_runs` at scrape time (cached 15 s) so every instance reports
 * backups whichever process made them. A kind never run reports 0 (so "older than 26 h" fires).
 */
export function registerBackupMetrics(registry: Registry, db: Database): void {
  const latest = scrapeCache(async (): Promise<Latest[]> => {
    const { rows } = await sql<Latest>`
      SELECT kind,
             extract(epoch FROM max(finished_at) FILTER (WHERE status = 'ok'))::float8 AS last_ok,
             extract(epoch FROM max(finished_at) FILTER (WHERE status = 'failed'))::float8 AS last_failed,
             (array_agg(bytes ORDER BY finished_at DESC) FILTER (WHERE status = 'ok'))[1]::text AS bytes,
             (array_agg(extract(epoch FROM finished_at - started_at) ORDER BY finished_at DESC)
                FILTER (WHERE status = 'ok'))[1]::float8 AS duration
        FROM backup_runs GROUP BY kind`.execute(db.primary);
    return rows;
  });
  const gauge = (name: string, help: string, pick: (rows: Latest[]) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(pick(await latest()));
        } catch {
          // the database is unreachable: leave the last value (its own alerts fire)
        }
      },
    });
  const of = (rows: Latest[], kind: Latest['kind']) => rows.find((r) => r.kind === kind);
  gauge(
    'kith_backup_last_success_timestamp_seconds',
    'When the newest successful backup finished (0: never)',
    (rows) => of(rows, 'backup')?.last_ok ?? 0,
  );
  gauge(
    'kith_backup_last_failure_timestamp_seconds',
    'When the newest failed backup finished (0: never)',
    (rows) => of(rows, 'backup')?.last_failed ?? 0,
  );
  gauge(
    'kith_backup_last_verified_timestamp_seconds',
    'When the newest successful restore drill finished (0: never)',
    (rows) => of(rows, 'verify')?.last_ok ?? 0,
  );
  gauge('kith_backup_size_bytes', 'Size of the newest successful backup', (rows) =>
    Number(of(rows, 'backup')?.bytes ?? 0),
  );
  gauge(
    'kith_backup_duration_seconds',
    'How long the newest successful backup took',
    (rows) => of(rows, 'backup')?.duration ?? 0,
  );
}
