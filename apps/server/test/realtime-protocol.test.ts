import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { befriend } from './helpers/social.ts';
import { connect, connectWithTicket, eventually, ticketFor, upgradeStatus } from './helpers/ws-client.ts';

const t = await buildTestApp({
  ...GENEROUS_AUTH_LIMITS,
  CORS_ORIGINS: 'https://app.kith.test',
  REALTIME_MAX_MESSAGES_PER_10S: '50',
  REALTIME_MAX_CONNECTIONS_PER_USER: '2',
  REALTIME_PING_INTERVAL_MS: '100',
  REALTIME_PONG_TIMEOUT_MS: '200',
  REALTIME_RESUME_WAIT_MS: '300',
});
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });

const metric = async (name: string, labels: Record<string, string> = {}) => {
  const text = await t.platform.metrics.registry.metrics();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(name) && !l.startsWith('#') && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('realtime upgrade: authenticated before the socket opens', () => {
  it('answers 401 without a ticket, with an unknown one, a reused one and an expired one', async () => {
    const user = await createUser(t);
    expect(await upgradeStatus(base, undefined)).toEqual({ status: 401, code: 'INVALID_TICKET' });
    expect(await upgradeStatus(base, 'x'.repeat(43))).toEqual({ status: 401, code: 'INVALID_TICKET' });

    const ticket = await ticketFor(base, user.accessToken);
    const socket = await connectWithTicket(base, ticket);
    expect(socket.events[0]).toMatchObject({ type: 'hello', protocol: 'kith.v1', userId: user.id });
    expect(await upgradeStatus(base, ticket)).toEqual({ status: 401, code: 'INVALID_TICKET' });

    const expired = await ticketFor(base, user.accessToken);
    const hash = createHash('sha256').update(expired).digest();
    await sql`UPDATE realtime_tickets SET expires_at = now() - interval '1 second' WHERE ticket_hash = ${hash}`.execute(
      t.platform.db.primary,
    );
    expect(await upgradeStatus(base, expired)).toEqual({ status: 401, code: 'INVALID_TICKET' });
    await socket.close();
  });

  it('stores only a hash of each ticket, and asks for a signed-in user', async () => {
    const user = await createUser(t);
    const ticket = await ticketFor(base, user.accessToken);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM realtime_tickets
      WHERE encode(ticket_hash, 'hex') = ${createHash('sha256').update(ticket).digest('hex')}`.execute(
      t.platform.db.primary,
    );
    expect(rows[0]!.n).toBe(1);
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/v1/realtime/ticket' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('answers 403 to a foreign Origin without using up the ticket; allows listed, same-origin and none', async () => {
    const user = await createUser(t);
    const ticket = await ticketFor(base, user.accessToken);
    expect(await upgradeStatus(base, ticket, 'https://evil.example')).toEqual({
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
    });
    expect(await upgradeStatus(base, ticket, 'https://app.kith.test')).toEqual({ status: 101 });
    const same = await ticketFor(base, user.accessToken);
    expect(await upgradeStatus(base, same, base)).toEqual({ status: 101 });
    const none = await ticketFor(base, user.accessToken);
    expect(await upgradeStatus(base, none)).toEqual({ status: 101 });
  });

  it('refuses the ticket of a session revoked since it was issued', async () => {
    const user = await createUser(t);
    const ticket = await ticketFor(base, user.accessToken);
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.headers });
    expect(out.statusCode).toBeLessThan(300);
    expect(await upgradeStatus(base, ticket)).toEqual({ status: 401, code: 'INVALID_TICKET' });
  });
});

describe('realtime protocol: bad frames', () => {
  it('answers an unknown type with an error event and keeps the connection', async () => {
    const user = await createUser(t);
    const socket = await connect(base, user.accessToken);
    socket.send({ type: 'launch.missiles' });
    expect(await socket.waitFor('error')).toMatchObject({
      code: 'UNKNOWN_MESSAGE_TYPE',
      requestType: 'launch.missiles',
    });
    socket.send({ nope: 1 });
    await socket.waitForCount('error', 2);
    socket.send({ type: 'ping' });
    await socket.waitFor('pong');
    await socket.close();
  });

  it('closes with 1007 on malformed JSON', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken);
    socket.send('{"type": "ping"');
    expect((await socket.closed).code).toBe(1007);
  });

  it('closes with 1007 on a text frame of invalid UTF-8', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken);
    socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await socket.closed).code).toBe(1007);
  });

  it('closes with 1003 on a binary frame', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken);
    socket.send(Buffer.from('{"type":"ping"}'), { binary: true });
    expect((await socket.closed).code).toBe(1003);
  });

  it('closes with 1009 on a message over 64 KiB', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken);
    socket.send({ type: 'ping', pad: 'x'.repeat(64 * 1024) });
    expect((await socket.closed).code).toBe(1009);
  });

  it('closes with 1008 on a flood of 10,000 messages, having answered only those within the rate', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken);
    const before = await metric('kith_ws_closes_total', { code: '1008' });
    for (let i = 0; i < 10_000; i++) socket.send({ type: 'ping' });
    expect((await socket.closed).code).toBe(1008);
    expect(socket.events.filter((e) => e.type === 'pong').length).toBeLessThanOrEqual(50);
    await eventually(async () => (await metric('kith_ws_closes_total', { code: '1008' })) === before + 1);
  });

  it('answers a garbage resume cursor with an error event', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken);
    socket.send({ type: 'resume', conversations: { 'not-an-id': 1 } });
    socket.send({ type: 'resume', conversations: { '0196a0b0-0000-7000-8000-000000000000': -5 } });
    socket.send({ type: 'resume', conversations: { '0196a0b0-0000-7000-8000-000000000000': 'abc' } });
    const errors = await socket.waitForCount('error', 3);
    for (const e of errors) expect(e).toMatchObject({ code: 'VALIDATION_FAILED', requestType: 'resume' });
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    await socket.close();
  });
});

describe('realtime connections', () => {
  it('drops a client that does not answer pings', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken, { autoPong: false });
    expect((await socket.closed).code).toBe(1006); // cut without a closing handshake
    await eventually(async () => (await metric('kith_ws_closes_total', { code: '4002' })) > 0);
  });

  it('keeps a client that answers pings', async () => {
    const socket = await connect(base, (await createUser(t)).accessToken);
    let pings = 0;
    await new Promise<void>((resolve) =>
      socket.ws.on('ping', () => {
        if (++pings === 3) resolve();
      }),
    );
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    await socket.close();
  });

  it('closes the oldest socket with 4001 past the per-user cap', async () => {
    const user = await createUser(t);
    const first = await connect(base, user.accessToken);
    const second = await connect(base, user.accessToken);
    const third = await connect(base, user.accessToken);
    expect((await first.closed).code).toBe(4001);
    expect(second.ws.readyState).toBe(second.ws.OPEN);
    expect(third.ws.readyState).toBe(third.ws.OPEN);
    await Promise.all([second.close(), third.close()]);
  });

  it('closes the sockets of a revoked session with 1008, not those of the user’s other sessions', async () => {
    const user = await createUser(t);
    const other = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: user.username, password: user.password },
    });
    const otherToken = other.json().accessToken as string;
    const revoked = await connect(base, user.accessToken);
    const kept = await connect(base, otherToken);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.headers });
    expect((await revoked.closed).code).toBe(1008);
    kept.send({ type: 'ping' });
    await kept.waitFor('pong');
    await kept.close();
  });

  it('pushes notifications live', async () => {
    const user = await createUser(t);
    const socket = await connect(base, user.accessToken);
    await t.platform.broker.publish(`user.${user.id}`, {
      type: 'notification.new',
      notification: { id: 'n1' },
      unreadCount: 3,
    });
    expect(await socket.waitFor('notification.new')).toMatchObject({ unreadCount: 3 });
    await socket.close();
  });

  it('counts open sockets and returns to zero when they close', async () => {
    const user = await createUser(t);
    const a = await connect(base, user.accessToken);
    const b = await connect(base, user.accessToken);
    expect(await metric('kith_ws_open_sockets')).toBeGreaterThanOrEqual(2);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('realtime: the wait for a resume', () => {
  it('a client that sends nothing gets the chat messages held for its resume once the wait is over, in order', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    const { id } = await openConversation(t, a, [b]);
    await sendMessage(t, a, id, 'one');
    const sb = await connect(base, b.accessToken);
    for (const body of ['two', 'three', 'four']) await sendMessage(t, a, id, body);
    const got = await sb.waitForCount('message.new', 3);
    expect(got.map((e) => e.message.seq)).toEqual([2, 3, 4]);
    await sendMessage(t, a, id, 'five');
    expect((await sb.waitFor('message.new', (e) => e.message.seq === 5)).message.body).toBe('five');
    expect(sb.events.filter((e) => e.type === 'message.new')).toHaveLength(4);
    await sb.close();
  });
});
