import { describe, expect, it } from 'vitest';
import { backupName } from './manifest.ts';
import { backupsToRemove } from './retention.ts';

const at = (iso: string) => backupName(new Date(iso));

describe('backupsToRemove', () => {
  it('keeps the newest of each recent day and of each recent week', () => {
    const names = [
      at('2026-11-01T03:30:00Z'), // week 44
      at('2026-11-08T03:30:00Z'), // week 45 (Sunday)
      at('2026-11-15T03:30:00Z'), // week 46
      at('2026-11-27T03:30:00Z'),
      at('2026-11-28T03:30:00Z'),
      at('2026-11-29T03:30:00Z'), // week 48
      at('2026-11-30T03:30:00Z'), // week 49 (Monday)
      at('2026-11-30T15:00:00Z'), // a second backup that day: the newer one counts
      at('2026-12-01T03:30:00Z'),
    ];
    const removed = backupsToRemove(names, { daily: 3, weekly: 3 });
    // daily: 12-01, 11-30 15:00, 11-29; weekly: week 49 (12-01), week 48 (11-29), week 46 (11-15)
    expect(removed).not.toContain(at('2026-12-01T03:30:00Z'));
    expect(removed).not.toContain(at('2026-11-30T15:00:00Z'));
    expect(removed).not.toContain(at('2026-11-29T03:30:00Z'));
    expect(removed).toContain(at('2026-11-30T03:30:00Z'));
    expect(removed).toContain(at('2026-11-28T03:30:00Z'));
    expect(removed).toContain(at('2026-11-27T03:30:00Z'));
    // the third week kept is week 46: there is no backup in week 47
    expect(removed).not.toContain(at('2026-11-15T03:30:00Z'));
    expect(removed).toContain(at('2026-11-08T03:30:00Z'));
    expect(removed).toContain(at('2026-11-01T03:30:00Z'));
  });

  it('never removes names it cannot date, and keeps everything within the counts', () => {
    expect(backupsToRemove(['notes', at('2026-12-01T00:00:00Z')], { daily: 1, weekly: 0 })).toEqual([]);
    expect(backupsToRemove([], { daily: 7, weekly: 4 })).toEqual([]);
  });
});
