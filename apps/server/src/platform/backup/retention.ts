import { backupTime } from './manifest.ts';

/** Monday-based ISO week of a UTC date, as "YYYY-Www". */
function isoWeek(at: Date): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Which backups to delete: kept are the newest backup of each of the `daily` most recent days
 * that have one, and the newest of each of the `weekly` most recent ISO weeks; the rest go.
 * `names` are backup names (any order); names that encode no time are never touched.
 */
export function backupsToRemove(names: readonly string[], keep: { daily: number; weekly: number }): string[] {
  const dated = names
    .flatMap((name) => {
      const at = backupTime(name);
      return at ? [{ name, at }] : [];
    })
    .sort((a, b) => b.at.getTime() - a.at.getTime());
  const kept = new Set<string>();
  const pick = (bucketOf: (at: Date) => string, count: number) => {
    const seen = new Set<string>();
    for (const { name, at } of dated) {
      const bucket = bucketOf(at);
      if (seen.has(bucket)) continue;
      if (seen.size >= count) break;
      seen.add(bucket);
      kept.add(name);
    }
  };
  pick((at) => at.toISOString().slice(0, 10), keep.daily);
  pick(isoWeek, keep.weekly);
  return dated.filter((b) => !kept.has(b.name)).map((b) => b.name);
}
