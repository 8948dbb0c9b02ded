import type { ChatMessage } from '@kith/contract';
import { describe, expect, it } from 'vitest';
import { MessageLog } from './message-log.ts';

const msg = (seq: number, patch: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `00000000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
  conversationId: '00000000-0000-7000-8000-000000000000',
  seq,
  senderId: null,
  clientMessageId: `c-${seq}`,
  body: `m${seq}`,
  media: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  editedAt: null,
  deleted: false,
  ...patch,
});

describe('MessageLog', () => {
  it('holds each seq once, in seq order, whatever order and path they come by', () => {
    const log = new MessageLog();
    expect(log.add([msg(5), msg(6), msg(7)])).toBe(3); // a history page
    expect(log.add([msg(8)])).toBe(1); // live
    expect(log.add([msg(7), msg(8), msg(9)])).toBe(1); // a replay after a reconnect overlaps
    expect(log.add([msg(3), msg(4)])).toBe(2); // an older page
    expect(log.add([msg(9)])).toBe(0); // a poll that raced the socket
    expect(log.list().map((m) => m.seq)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect([log.oldest, log.newest, log.size]).toEqual([3, 9, 7]);
  });

  it('an edit or a delete replaces the message; a stale copy arriving later does not undo it', () => {
    const log = new MessageLog();
    log.add([msg(1)]);
    log.add([msg(1, { body: 'fixed', editedAt: '2026-01-01T00:01:00.000Z' })]);
    log.add([msg(1)]); // the original again, from a replay
    expect(log.list()[0]?.body).toBe('fixed');
    log.add([msg(1, { body: '', deleted: true })]);
    log.add([msg(1, { body: 'fixed', editedAt: '2026-01-01T00:01:00.000Z' })]);
    expect(log.list()[0]).toMatchObject({ deleted: true, body: '' });
  });

  it('contiguous stops below a gap, so a resume asks for the gap again', () => {
    const log = new MessageLog();
    expect(log.contiguous).toBe(0);
    log.add([msg(10), msg(11), msg(13)]);
    expect(log.contiguous).toBe(11);
    log.add([msg(12)]);
    expect(log.contiguous).toBe(13);
  });

  it('keeps the same list object until something changes (cheap for React)', () => {
    const log = new MessageLog();
    log.add([msg(1)]);
    const first = log.list();
    log.add([msg(1)]);
    expect(log.list()).toBe(first);
    log.add([msg(2)]);
    expect(log.list()).not.toBe(first);
  });
});
