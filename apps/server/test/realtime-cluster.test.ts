import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '@kith/contract';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type ClusterUser, signupOn, startCluster } from './helpers/cluster.ts';
import { type ServerProcess, spawnServer } from './helpers/process.ts';
import { connect, eventually, type TestSocket } from './helpers/ws-client.ts';

// Two real server processes on one Postgres database and one redis-server of the test's own.
// Instance 2 runs the realtime role alone; instance 1 runs every role.
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
// instance 2 has a fast heartbeat (the silent-client test); instance 1 the default one, so that
// the client that stops reading there is cut by its send buffer, not by its missing pongs
const {
  database,
  redis,
  env,
  servers: [one, two],
} = await startCluster({
  name: 'rt-cluster',
  env: {
    METRICS_TOKEN,
    RATE_LIMIT_SIGNUP_IP: '1000000',
    RATE_LIMIT_LOGIN_IP: '1000000',
    RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
    REALTIME_MAX_MESSAGES_PER_10S: '100000',
    REALTIME_DEGRADED_POLL_MS: '200',
    REALTIME_SEND_BUFFER_SOFT_BYTES: '16384',
    REALTIME_SEND_BUFFER_HARD_BYTES: '65536',
    REALTIME_REPLAY_BATCH: '500',
  },
  instances: [
    {},
    {
      env: { REALTIME_PING_INTERVAL_MS: '300', REALTIME_PONG_TIMEOUT_MS: '300' },
      args: ['--role', 'realtime'],
    },
  ],
});
type User = ClusterUser;
const signup = () => signupOn(one.url);

async function conversation(owner: User, others: User[], title?: string): Promise<string> {
  const res = await fetch(`${one.url}/api/v1/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.accessToken}` },
    body: JSON.stringify({ usernames: others.map((u) => u.username), ...(title ? { title } : {}) }),
  });
  expect(res.status).toBeLessThan(300);
  return ((await res.json()) as { id: string }).id;
}

const on = (server: ServerProcess, user: User) => connect(server.url, user.accessToken);

let n = 0;
/** Sends and waits for the ack. */
async function say(socket: TestSocket, conversationId: string, body = `msg ${++n}`) {
  const clientMessageId = randomUUID();
  socket.send({ type: 'message.send', conversationId, clientMessageId, body });
  return socket.waitFor('message.ack', (a) => a.clientMessageId === clientMessageId);
}

const received = (socket: TestSocket, conversationId: string) =>
  socket.events
    .filter((e): e is { type: 'message.new'; message: ChatMessage } => e.type === 'message.new')
    .filter((e) => e.message.conversationId === conversationId)
    .map((e) => e.message.seq);

const upTo = (last: number, from = 1) => Array.from({ length: last - from + 1 }, (_, i) => from + i);

async function metric(server: ServerProcess, name: string, labels: Record<string, string>) {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(name) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('realtime across two instances', () => {
  it('delivers both ways between users on different instances', async () => {
    const [a, b] = [await signup(), await signup()];
    const id = await conversation(a, [b]);
    const [sa, sb] = [await on(one, a), await on(two, b)];
    const ack = await say(sa, id, 'from one');
    expect((await sb.waitFor('message.new')).message).toMatchObject({ id: ack.id, seq: 1, body: 'from one' });
    await say(sb, id, 'from two');
    await sa.waitForCount('message.new', 2);
    await sb.waitForCount('message.new', 2);
    expect([received(sa, id), received(sb, id)]).toEqual([
      [1, 2],
      [1, 2],
    ]);
    await Promise.all([sa.close(), sb.close()]);
  });

  it('delivers a group of 5 spread over both instances, each message once to each member', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => signup()));
    const id = await conversation(users[0]!, users.slice(1), 'five');
    const sockets = await Promise.all(users.map((u, i) => on(i % 2 === 0 ? one : two, u)));
    for (const socket of sockets) await say(socket, id);
    for (const socket of sockets) await socket.waitForCount('message.new', 5);
    for (const socket of sockets) expect(received(socket, id)).toEqual(upTo(5));
    await Promise.all(sockets.map((s) => s.close()));
  });

  it('closes the sockets of a revoked session on both instances', async () => {
    const user = await signup();
    const [s1, s2] = [await on(one, user), await on(two, user)];
    const out = await fetch(`${one.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(out.status).toBeLessThan(300);
    expect((await s1.closed).code).toBe(1008);
    expect((await s2.closed).code).toBe(1008);
  });

  it('drops a silent client by the heartbeat', async () => {
    const user = await signup();
    const socket = await connect(two.url, user.accessToken, { autoPong: false });
    expect((await socket.closed).code).toBe(1006);
    await eventually(async () => (await metric(two, 'kith_ws_closes_total', { code: '4002' })) > 0);
  });

  it('cuts a client that stops reading at the send-buffer cap; the others get everything', async () => {
    const [slow, ok] = [await signup(), await signup()];
    const before = await metric(one, 'kith_ws_closes_total', { code: '1013' });
    const [sSlow, sOk] = [await on(one, slow), await on(one, ok)];
    const paused = (sSlow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    paused.pause();
    // 1,500 events of ~4 KB to each (6 MB: far past what the kernel buffers for a reader that stopped),
    // published on the broker as the notifications module does
    const total = 1500;
    const publisher = new Redis(redis.url);
    try {
      const pipeline = publisher.pipeline();
      for (let i = 1; i <= total; i++) {
        const event = JSON.stringify({
          type: 'notification.new',
          notification: { n: i, pad: 'x'.repeat(4000) },
          unreadCount: i,
        });
        pipeline.publish(`kith:bus:user.${slow.id}`, event);
        pipeline.publish(`kith:bus:user.${ok.id}`, event);
      }
      await pipeline.exec();
    } finally {
      publisher.disconnect();
    }
    const okGot = await sOk.waitForCount('notification.new', total, undefined, 60_000);
    expect(okGot.map((e) => e.unreadCount)).toEqual(upTo(total));
    await eventually(
      async () => (await metric(one, 'kith_ws_closes_total', { code: '1013' })) > before,
      30_000,
    );

    paused.resume();
    expect([1013, 1006]).toContain((await sSlow.closed).code);
    const got = sSlow.events.filter((e) => e.type === 'notification.new').map((e) => e.unreadCount);
    expect(got.length).toBeLessThan(total);
    expect(got).toEqual(upTo(got.length));
    sOk.send({ type: 'ping' });
    await sOk.waitFor('pong');
    await sOk.close();
  }, 120_000);

  it('paces a long replay to a reader that keeps up instead of cutting it', async () => {
    const [a, b] = [await signup(), await signup()];
    const id = await conversation(a, [b], 'long history');
    // 1,500 stored messages of ~4 KB, written directly as setup
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body)
         SELECT gen_random_uuid(), $1, s, $2, 'bulk-' || s, repeat('x', 3900) FROM generate_series(1, 1500) s`,
        [id, a.id],
      );
      await client.query('UPDATE conversations SET last_seq = 1500 WHERE id = $1', [id]);
    } finally {
      await client.end();
    }
    const sb = await on(one, b);
    sb.send({ type: 'resume', conversations: { [id]: 0 } });
    expect(await sb.waitFor('resume.done', undefined, 60_000)).toMatchObject({ replayed: 1500 });
    expect(received(sb, id)).toEqual(upTo(1500));
    const sa = await on(two, a);
    await say(sa, id, 'and live after');
    await sb.waitForCount('message.new', 1501);
    expect(received(sb, id)).toEqual(upTo(1501));
    await Promise.all([sa.close(), sb.close()]);
  }, 120_000);

  it('keeps chatting through a Redis kill (catch-up from Postgres) and goes live again when it is back', async () => {
    const [a, b] = [await signup(), await signup()];
    const id = await conversation(a, [b]);
    const [sa, sb] = [await on(one, a), await on(two, b)];
    await say(sa, id);
    await sb.waitForCount('message.new', 1);

    await redis.kill();
    await Promise.all([sa.waitFor('system.degraded'), sb.waitFor('system.degraded')]);
    for (let i = 0; i < 5; i++) await say(sa, id);
    for (let i = 0; i < 3; i++) await say(sb, id);
    await sb.waitForCount('message.new', 9);
    await sa.waitForCount('message.new', 9);

    await redis.restart();
    await Promise.all([sa.waitFor('system.recovered'), sb.waitFor('system.recovered')]);
    await say(sa, id, 'live again');
    await sb.waitForCount('message.new', 10);
    await sa.waitForCount('message.new', 10);
    expect(received(sb, id)).toEqual(upTo(10));
    expect(received(sa, id)).toEqual(upTo(10));
    await Promise.all([sa.close(), sb.close()]);
  });

  it('after kill -9 of a realtime instance, its client reconnects to instance 1, resumes and holds every acked message once, in order', async () => {
    // a realtime-only instance of this test's own: killing a shared one would take it from the
    // tests that run after this one
    const doomed = await spawnServer({ env, args: ['--role', 'realtime'] });
    const [a, b] = [await signup(), await signup()];
    const id = await conversation(a, [b]);
    const [sa, sb] = [await on(one, a), await on(doomed, b)];
    const acked: number[] = [];
    for (let i = 0; i < 5; i++) acked.push((await say(sa, id)).seq);
    await sb.waitForCount('message.new', 5);

    // keep sending while that instance dies
    const sending = (async () => {
      for (let i = 0; i < 20; i++) acked.push((await say(sa, id)).seq);
    })();
    process.kill(-doomed.child.pid!, 'SIGKILL');
    expect((await sb.closed).code).toBe(1006);
    await sending;

    const held = received(sb, id);
    const last = held.at(-1) ?? 0;
    const again = await on(one, b);
    again.send({ type: 'resume', conversations: { [id]: last } });
    await again.waitFor('resume.done');
    const all = [...held, ...received(again, id)];
    expect(all).toEqual(upTo(acked.length));
    expect(acked).toEqual(upTo(25));
    await Promise.all([sa.close(), again.close()]);
  }, 120_000);
});
