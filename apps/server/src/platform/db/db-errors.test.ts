import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  classifyDbError,
  classifySqlState,
  DatabaseTimeoutError,
  isRetryableDbError,
  sqlState,
} from './db-errors.ts';

/** An error as pg reports one from the server. */
const serverError = (code: string) => {
  const err = new pg.DatabaseError('boom', 0, 'error');
  err.code = code;
  err.severity = 'ERROR';
  return err;
};
const socketError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('classifyDbError', () => {
  it('input: data exceptions, integrity violations and RAISE from a function (one bad row at fault)', () => {
    for (const code of ['22001', '22P02', '22003', '23505', '23503', '23514', 'P0001', 'P0004']) {
      expect(classifyDbError(serverError(code)), code).toBe('input');
    }
  });

  it('unavailable: connection errors, timeouts, shutdown, exhausted resources, a standby', () => {
    for (const code of [
      '08006',
      '08001',
      '57014',
      '57P01',
      '57P02',
      '57P03',
      '53300',
      '53100',
      '58030',
      '25006',
    ]) {
      expect(classifyDbError(serverError(code)), code).toBe('unavailable');
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']) {
      expect(classifyDbError(socketError(code)), code).toBe('unavailable');
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(classifyDbError(new Error(message)), message).toBe('unavailable');
    }
    expect(classifyDbError(new DatabaseTimeoutError('chat send', 100))).toBe('unavailable');
  });

  it('contention: serialization failures, deadlocks, locks not available', () => {
    for (const code of ['40001', '40P01', '55P03'])
      expect(classifyDbError(serverError(code)), code).toBe('contention');
  });

  it('other: bugs and anything unknown', () => {
    for (const code of ['42601', '42883', 'XX000'])
      expect(classifyDbError(serverError(code)), code).toBe('other');
    expect(classifyDbError(new TypeError('x is undefined'))).toBe('other');
    expect(classifyDbError(undefined)).toBe('other');
    expect(classifyDbError('a string')).toBe('other');
  });

  it('a socket code is not mistaken for a SQLSTATE (EPIPE has five letters), nor a SQLSTATE-like code without severity', () => {
    expect(sqlState(socketError('EPIPE'))).toBeUndefined();
    expect(sqlState(Object.assign(new Error('x'), { code: '23505' }))).toBeUndefined();
    expect(sqlState(serverError('23505'))).toBe('23505');
  });

  it('retryable: unavailable and contention, never input or other', () => {
    expect(isRetryableDbError(serverError('57014'))).toBe(true);
    expect(isRetryableDbError(serverError('40P01'))).toBe(true);
    expect(isRetryableDbError(serverError('23505'))).toBe(false);
    expect(isRetryableDbError(serverError('42601'))).toBe(false);
    expect(classifySqlState('22012')).toBe('input');
  });
});
