import { describe, expect, it } from 'vitest';
import { insertToEnd, parseLsn } from './replica-router.ts';

const BLOCK = 8192n;
const SEGMENT = 16n * 1024n * 1024n;

describe('read-your-writes watermark positions', () => {
  it('parses pg_lsn text', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(parseLsn(null)).toBe(0n);
  });

  it('turns an insert position just past a page header into the boundary a replica replays to', () => {
    // past a short page header: the last record ended at the page boundary
    expect(insertToEnd(parseLsn('0/3002018'), BLOCK, SEGMENT)).toBe(parseLsn('0/3002000'));
    // past a segment's long page header
    expect(insertToEnd(parseLsn('0/4000028'), BLOCK, SEGMENT)).toBe(parseLsn('0/4000000'));
    // anywhere else: as is
    expect(insertToEnd(parseLsn('0/3002060'), BLOCK, SEGMENT)).toBe(parseLsn('0/3002060'));
    expect(insertToEnd(parseLsn('0/4002028'), BLOCK, SEGMENT)).toBe(parseLsn('0/4002028'));
  });
});
