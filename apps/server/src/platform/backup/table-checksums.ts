import type pg from 'pg';
import type { TableChecksum } from './manifest.ts';

/** Operational records that change while a backup runs; restored, but not compared. */
export const UNCOMPARED_TABLES = new Set(['backup_runs']);

/**
 * Row count and an order-independent checksum of every table in `public`, as `client` sees them
 * (run it inside the transaction whose snapshot the dump used). Text forms are taken in UTC so a
 * restore on a server with another TimeZone compares equal.
 */
export async function tableChecksums(client: pg.ClientBase): Promise<Record<string, TableChecksum>> {
  await client.query(`SET LOCAL TimeZone = 'UTC'`);
  await client.query(`SET LOCAL extra_float_digits = 1`);
  const { rows: tables } = await client.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
  );
  const result: Record<string, TableChecksum> = {};
  for (const { name } of tables) {
    if (UNCOMPARED_TABLES.has(name)) continue;
    const { rows } = await client.query<{ rows: string; checksum: string }>(
      `SELECT count(*)::bigint AS rows, coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS checksum
         FROM (SELECT md5(t::text) AS h FROM public.${quoteIdent(name)} t) s`,
    );
    result[name] = { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum };
  }
  return result;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Tables whose count or checksum differ, described for a report. */
export function compareChecksums(
  expected: Record<string, TableChecksum>,
  actual: Record<string, TableChecksum>,
): string[] {
  const problems: string[] = [];
  for (const [table, want] of Object.entries(expected)) {
    const got = actual[table];
    if (!got) problems.push(`${table}: missing after restore`);
    else if (got.rows !== want.rows)
      problems.push(`${table}: ${got.rows} rows, backup recorded ${want.rows}`);
    else if (got.checksum !== want.checksum) problems.push(`${table}: content checksum differs`);
  }
  for (const table of Object.keys(actual)) {
    if (!(table in expected)) problems.push(`${table}: not in the backup`);
  }
  return problems;
}
