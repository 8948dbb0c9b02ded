import { randomUUID } from 'node:crypto';
import { SERVER_EVENTS, type ServerMessage } from '@kith/contract';
import pg from 'pg';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { FEED_NEW_FLAG } from '../src/modules/feed/feed-new.ts';
import { bucketOf } from '../src/modules/flags/evaluate.ts';
import { type ClusterUser, signupOn, startCluster } from './helpers/cluster.ts';
import type { ServerProcess } from './helpers/process.ts';
import { until } from './helpers/wait.ts';
import { connect, type TestSocket } from './helpers/ws-client.ts';

// Two real Kith processes, both with every role (either may run a fan-out job), on one database and
// a redis-server of the test's own. Every event any socket of this file receives is checked against
// the protocol's schemas at the end.
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const {
  database,
  redis,
  servers: [one, two],
} = await startCluster({
  name: 'rt-events',
  env: {
    METRICS_TOKEN,
    RATE_LIMIT_SIGNUP_IP: '1000000',
    RATE_LIMIT_LOGIN_IP: '1000000',
    RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
    REALTIME_DEGRADED_POLL_MS: '200',
    FEED_NEW_EVENT_WINDOW_MS: '100',
  },
  instances: [{}, {}],
});
const instances = [one, two] as const;

const sockets: TestSocket[] = [];
async function on(server: ServerProcess, user: ClusterUser): Promise<TestSocket> {
  const socket = await connect(server.url, user.accessToken);
  sockets.push(socket);
  return socket;
}

const signup = () => signupOn(one.url);

async function api(server: ServerProcess, user: ClusterUser, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${user.accessToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function befriend(a: ClusterUser, b: ClusterUser) {
  const sent = await api(one, a, 'POST', '/friend-requests', { username: b.username });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  const accepted = await api(two, b, 'POST', `/friend-requests/${sent.body.request.id}/accept`);
  expect(accepted.status).toBe(204);
}

/** An admin: promoted in the database, then signed in again so the session carries the role. */
async function admin(): Promise<ClusterUser> {
  const user = await signup();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
  } finally {
    await client.end();
  }
  const res = await fetch(`${one.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: user.username, password: user.password }),
  });
  expect(res.status).toBe(200);
  return { ...user, accessToken: ((await res.json()) as { accessToken: string }).accessToken };
}

const feedNews = (socket: TestSocket) =>
  socket.events.filter((e): e is Extract<ServerMessage, { type: 'feed.new' }> => e.type === 'feed.new');

/** kith_feed_new_events_total by outcome on one instance. */
async function outcomes(server: ServerProcess): Promise<Record<string, number>> {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const out: Record<string, number> = { sent: 0, flag_off: 0, failed: 0 };
  for (const line of text.split('\n')) {
    const match = line.match(/^kith_feed_new_events_total\{outcome="(\w+)"\} (\d+)/);
    if (match) out[match[1]!] = Number(match[2]);
  }
  return out;
}

describe('feed.new behind the feed-new-posts-event flag, across two instances', { timeout: 180_000 }, () => {
  it('0 % tells no reader, 50 % the stable half, 100 % everyone, and the kill switch stops it on both instances', async () => {
    const [staff, author] = [await admin(), await signup()];
    // readers until the 50 % rollout splits them (each user's bucket is a stable hash of their id)
    const readers: ClusterUser[] = [];
    const inHalf = (u: ClusterUser) => bucketOf(FEED_NEW_FLAG, u.id) < 5000;
    while (readers.filter(inHalf).length < 2 || readers.filter((u) => !inHalf(u)).length < 2) {
      expect(readers.length).toBeLessThan(40);
      readers.push(await signup());
    }
    for (const reader of readers) await befriend(author, reader);
    const readerSockets = await Promise.all(readers.map((r, i) => on(instances[i % 2]!, r)));
    const authorSocket = await on(two, author);

    const setFlag = async (body: Record<string, unknown>) => {
      const res = await api(one, staff, 'PUT', `/admin/flags/${FEED_NEW_FLAG}`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    /** What instance `server` answers for the flag to `reader` right now (its in-process store). */
    const flagOn = async (server: ServerProcess, reader: ClusterUser) =>
      (await api(server, reader, 'GET', '/flags')).body.flags[FEED_NEW_FLAG]?.value === true;

    /**
     * The author posts once; resolves when both instances together have decided about every reader
     * (a post's readers are decided in one flush) and every event sent has arrived. Returns who got
     * one, and which instances decided.
     */
    const round = async () => {
      const before = await Promise.all(instances.map(outcomes));
      const seen = readerSockets.map((s) => feedNews(s).length);
      const posted = await api(one, author, 'POST', '/posts', {
        text: `post ${randomUUID()}`,
        visibility: 'friends',
      });
      expect(posted.status).toBe(201);
      let after = before;
      const decided = (o: Record<string, number>[]) =>
        o.reduce(
          (sum, x, i) =>
            sum +
            x.sent! +
            x.flag_off! +
            x.failed! -
            before[i]!.sent! -
            before[i]!.flag_off! -
            before[i]!.failed!,
          0,
        );
      await until(
        async () => {
          after = await Promise.all(instances.map(outcomes));
          return decided(after) >= readers.length;
        },
        { what: 'every reader decided', timeoutMs: 30_000, intervalMs: 50 },
      );
      expect(decided(after)).toBe(readers.length);
      const sent = after.reduce((sum, x, i) => sum + x.sent! - before[i]!.sent!, 0);
      const got = () => readerSockets.reduce((sum, s, i) => sum + feedNews(s).length - seen[i]!, 0);
      await until(() => got() >= sent, { what: 'the sent events to arrive', timeoutMs: 10_000 });
      expect(got()).toBe(sent);
      return {
        receivers: readers.filter((_, i) => feedNews(readerSockets[i]!).length > seen[i]!).map((r) => r.id),
        deciders: instances.filter(
          (_, i) => after[i]!.sent! + after[i]!.flag_off! > before[i]!.sent! + before[i]!.flag_off!,
        ),
      };
    };
    const everyone = readers.map((r) => r.id).sort();

    // 0 %: the flag exists, on, client-visible, with nobody rolled in
    await setFlag({ enabled: true, clientVisible: true, defaultVariant: 'off', rollout: [] });
    await until(
      async () => (await api(two, staff, 'GET', '/flags')).body.flags[FEED_NEW_FLAG] !== undefined,
      {
        what: 'instance two to load the flag',
      },
    );
    expect((await round()).receivers).toEqual([]);

    // 50 %: exactly the readers whose stable bucket falls in the first half
    await setFlag({ rollout: [{ variant: 'on', percent: 50 }] });
    await until(async () => flagOn(two, readers.find(inHalf)!), { what: 'instance two to see 50 %' });
    const half = await round();
    expect(half.receivers.sort()).toEqual(
      readers
        .filter(inHalf)
        .map((r) => r.id)
        .sort(),
    );

    // 100 %: every reader, each event one post's worth, never the author
    await setFlag({ rollout: [{ variant: 'on', percent: 100 }] });
    await until(async () => flagOn(two, readers.find((r) => !inHalf(r))!), {
      what: 'instance two to see 100 %',
    });
    const full = await round();
    expect(full.receivers.sort()).toEqual(everyone);
    for (const socket of readerSockets)
      expect(feedNews(socket).at(-1)).toEqual({ type: 'feed.new', count: 1 });

    // the kill switch, thrown on instance one: instance two's store has it within a second (measured)
    const killedAt = performance.now();
    await setFlag({ enabled: false });
    await until(async () => !(await flagOn(two, readers[0]!)), {
      what: 'instance two to see the kill switch',
    });
    console.info(`kill switch seen by instance two after ${Math.round(performance.now() - killedAt)} ms`);
    // posts until each instance has run a fan-out with the switch off: nobody hears of any
    const decidedOff = new Set<ServerProcess>();
    for (let i = 0; decidedOff.size < instances.length; i++) {
      expect(i, 'fan-out jobs never ran on one of the instances').toBeLessThan(15);
      const killed = await round();
      expect(killed.receivers).toEqual([]);
      for (const server of killed.deciders) decidedOff.add(server);
    }
    expect(feedNews(authorSocket)).toEqual([]);
  });
});

describe('the realtime protocol as a real server speaks it', { timeout: 120_000 }, () => {
  it('sends every kind of event', async () => {
    const [a, b, c] = [await signup(), await signup(), await signup()];
    await befriend(a, b);
    const a1 = await on(one, a);
    // b coming online is announced to friend a, whose socket is subscribed already
    const b1 = await on(two, b);
    await a1.waitFor('presence', (e) => e.userId === b.id && e.status === 'online');
    const a2 = await on(two, a); // a's second device
    const c1 = await on(one, c);

    // notifications: a friend request and its acceptance
    const request = await api(one, a, 'POST', '/friend-requests', { username: c.username });
    expect(request.status).toBe(201);
    await c1.waitFor('notification.new', (e) => e.notification.kind === 'friend_request');
    expect((await api(two, c, 'POST', `/friend-requests/${request.body.request.id}/accept`)).status).toBe(
      204,
    );
    await a1.waitFor('notification.new', (e) => e.notification.kind === 'friend_accepted');

    // a group: messages, edits, deletes, typing, read markers, a member leaving
    const created = await api(one, a, 'POST', '/conversations', {
      usernames: [b.username, c.username],
      title: 'all',
    });
    expect(created.status).toBeLessThan(300);
    const conversationId = created.body.id as string;
    const clientMessageId = randomUUID();
    a1.send({ type: 'message.send', conversationId, clientMessageId, body: 'hello' });
    const ack = await a1.waitFor('message.ack', (e) => e.clientMessageId === clientMessageId);
    await Promise.all([b1, c1, a2].map((s) => s.waitFor('message.new', (e) => e.message.id === ack.id)));
    expect((await api(two, a, 'PATCH', `/messages/${ack.id}`, { body: 'hello, all' })).status).toBe(200);
    await b1.waitFor('message.updated', (e) => e.message.id === ack.id);
    b1.send({ type: 'typing', conversationId });
    await c1.waitFor('typing', (e) => e.userId === b.id);
    // b's marker moves: b's own sockets hear conversation.read, the other members member.read
    b1.send({ type: 'conversation.read', conversationId, seq: ack.seq });
    await b1.waitFor('conversation.read', (e) => e.conversationId === conversationId);
    await a2.waitFor('member.read', (e) => e.userId === b.id);
    const deleted = await api(one, a, 'DELETE', `/messages/${ack.id}`);
    expect(deleted.status).toBeLessThan(300);
    await c1.waitFor('message.deleted', (e) => e.message.id === ack.id);
    expect(
      (await api(one, c, 'DELETE', `/conversations/${conversationId}/members/${c.username}`)).status,
    ).toBeLessThan(300);
    await b1.waitFor('conversation.updated', (e) => e.conversationId === conversationId);

    // resume, ping, refusals
    a1.send({ type: 'resume', conversations: { [conversationId]: 0 } });
    await a1.waitFor('resume.done');
    a1.send({ type: 'ping' });
    await a1.waitFor('pong');
    a1.send({ type: 'no.such-type' });
    await a1.waitFor('error', (e) => e.code === 'UNKNOWN_MESSAGE_TYPE');
    a1.send({ type: 'typing', conversationId: 'not-a-uuid' });
    await a1.waitFor('error', (e) => e.code === 'VALIDATION_FAILED');

    // Redis goes away and comes back: every socket hears of it on both instances
    await redis.kill();
    await Promise.all([a1, a2].map((s) => s.waitFor('system.degraded', undefined, 30_000)));
    await redis.restart();
    await Promise.all([a1, a2].map((s) => s.waitFor('system.recovered', undefined, 30_000)));
  });

  // last: it reads what every socket of the file received
  it('every event received matches its schema, and every kind of event was seen', () => {
    const seen = new Set<string>();
    const invalid: string[] = [];
    for (const socket of sockets) {
      for (const event of socket.events as unknown[]) {
        const type = String((event as { type?: unknown }).type);
        seen.add(type);
        const schema = SERVER_EVENTS[type as keyof typeof SERVER_EVENTS];
        if (!schema) invalid.push(`unknown event type ${type}`);
        else if (!Value.Check(schema, event)) {
          const errors = [...Value.Errors(schema, event)].map((e) => `${e.instancePath} ${e.message}`);
          invalid.push(`${type}: ${errors.join('; ')} in ${JSON.stringify(event)}`);
        }
      }
    }
    expect(invalid).toEqual([]);
    // the check bites: the shape the protocol carried before it was typed is refused
    const untyped = { type: 'notification.new', notification: { id: 'x' }, unreadCount: 1 };
    expect(Value.Check(SERVER_EVENTS['notification.new'], untyped)).toBe(false);
    expect([...seen].sort()).toEqual(Object.keys(SERVER_EVENTS).sort());
  });
});
