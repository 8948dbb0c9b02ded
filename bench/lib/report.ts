import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './machine.ts';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = join(BENCH_DIR, '..');

/**
 * Writes bench/results/<name>-<YYYY-MM-DD>[-<BENCH_LABEL>].json and returns its path (a label such
 * as `before` keeps two runs of one day apart).
 */
export async function writeResult(name: string, result: Record<string, unknown>): Promise<string> {
  const date = new Date().toISOString().slice(0, 10);
  const label = process.env.BENCH_LABEL?.replace(/[^A-Za-z0-9_-]/g, '');
  const file = join(BENCH_DIR, 'results', `${name}-${date}${label ? `-${label}` : ''}.json`);
  await mkdir(dirname(file), { recursive: true });
  const body = {
    name,
    ...(label ? { label } : {}),
    date: new Date().toISOString(),
    machine: machine(),
    ...result,
  };
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

/** A plain text table: the first row is the header. */
export function table(rows: (string | number)[][]): string {
  const text = rows.map((r) => r.map(String));
  const widths = text[0]!.map((_, i) => Math.max(...text.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(text[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...text.slice(1).map(line)].join('\n');
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The p-th percentile (0–100) of samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (samples: readonly number[]) => percentile(samples, 50);
