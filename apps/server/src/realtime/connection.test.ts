import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createMetrics } from '../platform/observability/metrics.ts';
import { Connection } from './connection.ts';

const limits = { sendBufferSoftBytes: 64 * 1024, sendBufferHardBytes: 1024 * 1024, maxMessagesPer10s: 100 };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real ws server and client on a free port; resolves with the server side as a Connection. */
async function connect() {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const accepted = new Promise<Connection>((resolve) => {
    wss.on('connection', (socket: WebSocket, request: IncomingMessage) =>
      resolve(new Connection(socket, request.socket, 'u1', 's1', limits, createMetrics().realtime)),
    );
  });
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const frames: { text: string; binary: boolean }[] = [];
  client.on('message', (data, binary) => frames.push({ text: data.toString(), binary }));
  cleanups.push(async () => {
    client.terminate();
    for (const socket of wss.clients) socket.terminate();
  });
  await new Promise((resolve) => client.once('open', resolve));
  return { conn: await accepted, frames };
}

describe('Connection', () => {
  it('sends shared Buffers and strings alike as text frames, in order, also many in one burst', async () => {
    const { conn, frames } = await connect();
    const shared = Buffer.from('{"type":"presence","userId":"u2","status":"online"}');
    for (let i = 0; i < 100; i++) conn.sendFrame(i % 2 ? shared : `{"n":${i}}`);
    conn.send({ type: 'pong' });
    await expect.poll(() => frames.length).toBe(101);
    expect(frames.every((f) => !f.binary)).toBe(true);
    expect(frames.at(-1)!.text).toBe('{"type":"pong"}');
    expect(frames.filter((_, i) => i % 2 === 0 && i < 100).map((f) => JSON.parse(f.text).n)).toEqual(
      Array.from({ length: 50 }, (_, i) => 2 * i),
    );
  });

  it('lets a waiting replay go on once its frames are written', async () => {
    const { conn, frames } = await connect();
    conn.sendFrame(`{"big":"${'x'.repeat(limits.sendBufferSoftBytes * 2)}"}`, false, true);
    await conn.drain(); // the frame is corked, so over the soft limit: resolved once written
    expect(conn.socket.bufferedAmount).toBeLessThanOrEqual(limits.sendBufferSoftBytes);
    await expect.poll(() => frames.length).toBe(1);
  });
});
