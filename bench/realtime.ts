/**
 * Realtime gateway figures, each next to a bare baseline in the same run:
 * - fan-out: 1,000 sockets (4 members × 250 sockets, one group) receiving every message of the
 *   group, deliveries/s, next to a bare `ws` server broadcasting the same frames to 1,000 sockets;
 * - latency: chat send on instance 1 → `message.new` on instance 2 (Redis between them) at a
 *   bounded rate, p50 and p99;
 * - memory: RSS per idle authenticated connection next to a bare `ws` server's.
 *
 *   npm run bench:realtime       (TEST_DATABASE_URL=… to use the machine's Postgres)
 *   RT_CONNECTIONS=10000 RT_RATE=1000 npm run bench:realtime    (bigger, if the machine allows)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createBenchDatabase } from './lib/database.ts';
import { freePort, productionEnv, SERVER_MAIN, startNode, stopAll } from './lib/processes.ts';
import { BENCH_DIR, percentile, round, table, writeResult } from './lib/report.ts';

const FANOUT_SOCKETS = 1000;
const FANOUT_MESSAGES = 50;
const IDLE_CONNECTIONS = Number(process.env.RT_CONNECTIONS ?? 2000);
const RATE = Number(process.env.RT_RATE ?? 200);
const LATENCY_SECONDS = 5;
const BODY = 'x'.repeat(200);

async function post(url: string, token?: string, body?: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json!;
}

async function signup(base: string) {
  const username = `b_${randomBytes(6).toString('hex')}`;
  const body = await post(`${base}/api/v1/auth/signup`, undefined, {
    username,
    email: `${username}@example.com`,
    password: `bench password ${randomUUID()}`,
  });
  return { username, token: body.accessToken as string };
}

/** Opens `count` sockets for `token`; `onMessage` sees every frame. */
async function openSockets(base: string, token: string, count: number, onMessage?: (data: string) => void) {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const { ticket } = (await post(`${base}/api/v1/realtime/ticket`, token)) as { ticket: string };
        const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/realtime?ticket=${ticket}`, {
          perMessageDeflate: false,
        });
        await new Promise<void>((resolve, reject) => {
          ws.once('message', () => resolve()); // hello
          ws.once('error', reject);
        });
        if (onMessage) ws.on('message', (data) => onMessage(data.toString()));
        return ws;
      }),
    );
    sockets.push(...batch);
  }
  return sockets;
}

async function openRaw(base: string, count: number, onMessage: () => void) {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 100) {
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, async () => {
          const ws = new WebSocket(base.replace('http', 'ws'), { perMessageDeflate: false });
          await new Promise((resolve) => ws.once('open', resolve));
          ws.on('message', onMessage);
          return ws;
        }),
      )),
    );
  }
  return sockets;
}

const closeAll = (sockets: WebSocket[]) => {
  for (const ws of sockets) ws.terminate();
};

async function rssOfKith(base: string, token: string): Promise<number> {
  const text = await (
    await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const line = text.split('\n').find((l) => l.startsWith('kith_process_resident_memory_bytes'));
  return Number(line?.split(' ').at(-1));
}
const rssOfRaw = async (base: string) => Number(await (await fetch(`${base}/rss`)).text());

/** Resolves when `done()` is true, checked on every call of the returned tick. */
function counter(target: number) {
  let count = 0;
  let resolve!: () => void;
  const reached = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    tick() {
      if (++count === target) resolve();
    },
    reached,
    get count() {
      return count;
    },
  };
}

async function startRedis(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
  child.stdout!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-rt-'));
  const db = await createBenchDatabase();
  const redis = await startRedis(dir);
  try {
    const [p1, p2, pRaw] = [await freePort(), await freePort(), await freePort()];
    const env = {
      ...productionEnv(db.url, p1, dir),
      REDIS_URL: redis.url,
      MEDIA_SIGNING_SECRET: randomBytes(32).toString('hex'),
      CHAT_FRIENDS_ONLY: 'false',
      RATE_LIMIT_SIGNUP_IP: '1000000',
      RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
      REALTIME_MAX_CONNECTIONS_PER_USER: '1000',
      REALTIME_MAX_MESSAGES_PER_10S: '100000',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
    };
    const metricsToken = env.METRICS_TOKEN;
    const one = await startNode({
      what: 'Kith 1',
      script: SERVER_MAIN,
      cwd: join(SERVER_MAIN, '../..'),
      port: p1,
      env: { ...env, KITH_ROLES: 'api,realtime' },
      readyPath: '/readyz',
      logFile: join(dir, 'kith1.log'),
    });
    const two = await startNode({
      what: 'Kith 2',
      script: SERVER_MAIN,
      cwd: join(SERVER_MAIN, '../..'),
      port: p2,
      env: { ...env, PORT: String(p2), KITH_ROLES: 'realtime' },
      readyPath: '/readyz',
      logFile: join(dir, 'kith2.log'),
    });
    const raw = await startNode({
      what: 'bare ws',
      script: join(BENCH_DIR, 'lib/ws-broadcast-server.ts'),
      port: pRaw,
      env: { PORT: String(pRaw) },
      readyPath: '/health',
      logFile: join(dir, 'raw.log'),
      nodeArgs: ['--expose-gc'],
    });

    // ---- fan-out ------------------------------------------------------------------------------
    const sender = await signup(one.url);
    const members = await Promise.all(Array.from({ length: 4 }, () => signup(one.url)));
    const group = (await post(`${one.url}/api/v1/conversations`, sender.token, {
      usernames: members.map((m) => m.username),
      title: 'fan-out',
    })) as { id: string };
    const deliveries = FANOUT_SOCKETS * FANOUT_MESSAGES;
    const kithCount = counter(deliveries);
    const receivers: WebSocket[] = [];
    for (const m of members) {
      receivers.push(
        ...(await openSockets(one.url, m.token, FANOUT_SOCKETS / 4, (d) => {
          if (d.startsWith('{"type":"message.new"')) kithCount.tick();
        })),
      );
    }
    const [senderSocket] = await openSockets(one.url, sender.token, 1);
    let started = performance.now();
    for (let i = 0; i < FANOUT_MESSAGES; i++) {
      senderSocket!.send(
        JSON.stringify({
          type: 'message.send',
          conversationId: group.id,
          clientMessageId: randomUUID(),
          body: BODY,
        }),
      );
    }
    await kithCount.reached;
    const kithFanout = deliveries / ((performance.now() - started) / 1000);
    closeAll(receivers);

    const rawCount = counter(deliveries);
    const rawSockets = await openRaw(raw.url, FANOUT_SOCKETS, () => rawCount.tick());
    started = performance.now();
    await fetch(`${raw.url}/broadcast?n=${FANOUT_MESSAGES}&size=${BODY.length + 250}`, { method: 'POST' });
    await rawCount.reached;
    const rawFanout = deliveries / ((performance.now() - started) / 1000);
    closeAll(rawSockets);

    // ---- latency across instances ---------------------------------------------------------------
    const [a, b] = [await signup(one.url), await signup(one.url)];
    const direct = (await post(`${one.url}/api/v1/conversations`, a.token, { usernames: [b.username] })) as {
      id: string;
    };
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const total = RATE * LATENCY_SECONDS;
    const got = counter(total);
    await openSockets(two.url, b.token, 1, (d) => {
      if (!d.startsWith('{"type":"message.new"')) return;
      const at = sentAt.get(JSON.parse(d).message.clientMessageId);
      if (at !== undefined) latencies.push(performance.now() - at);
      got.tick();
    });
    const senders = await openSockets(one.url, a.token, 20);
    started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = randomUUID();
      sentAt.set(id, performance.now());
      senders[i % senders.length]!.send(
        JSON.stringify({ type: 'message.send', conversationId: direct.id, clientMessageId: id, body: BODY }),
      );
    }
    await Promise.race([got.reached, new Promise((r) => setTimeout(r, 30_000))]);
    const achieved = got.count / ((performance.now() - started) / 1000);

    // ---- idle connection memory -----------------------------------------------------------------
    const idleUser = await signup(one.url);
    const kithBefore = await rssOfKith(two.url, metricsToken);
    const idle = await openSockets(two.url, idleUser.token, IDLE_CONNECTIONS);
    const kithAfter = await rssOfKith(two.url, metricsToken);
    closeAll(idle);
    const rawBefore = await rssOfRaw(raw.url);
    const rawIdle = await openRaw(raw.url, IDLE_CONNECTIONS, () => {});
    const rawAfter = await rssOfRaw(raw.url);
    closeAll(rawIdle);

    const kithPerConn = (kithAfter - kithBefore) / IDLE_CONNECTIONS;
    const rawPerConn = (rawAfter - rawBefore) / IDLE_CONNECTIONS;
    const result = {
      cpus: cpus().length,
      fanout: {
        sockets: FANOUT_SOCKETS,
        messages: FANOUT_MESSAGES,
        kithPerSecond: round(kithFanout),
        rawWsPerSecond: round(rawFanout),
        ratio: round(kithFanout / rawFanout, 2),
      },
      latency: {
        rate: RATE,
        seconds: LATENCY_SECONDS,
        achievedPerSecond: round(achieved),
        delivered: got.count,
        p50Ms: round(percentile(latencies, 50), 2),
        p99Ms: round(percentile(latencies, 99), 2),
      },
      memory: {
        connections: IDLE_CONNECTIONS,
        kithBytesPerConnection: Math.round(kithPerConn),
        rawWsBytesPerConnection: Math.round(rawPerConn),
        ratio: round(kithPerConn / rawPerConn, 2),
      },
    };
    console.log(
      table([
        ['figure', 'Kith', 'bare ws', 'ratio'],
        [
          'fan-out deliveries/s (1,000 sockets)',
          result.fanout.kithPerSecond,
          result.fanout.rawWsPerSecond,
          result.fanout.ratio,
        ],
        [
          `send→delivery across instances at ${RATE}/s: p50 / p99 ms`,
          `${result.latency.p50Ms} / ${result.latency.p99Ms}`,
          '',
          '',
        ],
        [
          `RSS per idle connection (${IDLE_CONNECTIONS})`,
          `${result.memory.kithBytesPerConnection} B`,
          `${result.memory.rawWsBytesPerConnection} B`,
          result.memory.ratio,
        ],
      ]),
    );
    console.log(`written to ${await writeResult('realtime', result)}`);
    await one.stop();
    await two.stop();
    await raw.stop();
  } finally {
    await stopAll();
    await redis.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

const limit = setTimeout(() => {
  console.error('bench:realtime took longer than 5 minutes; stopping');
  stopAll().finally(() => process.exit(1));
}, 300_000);
limit.unref();
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
