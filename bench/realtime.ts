/**
 * Realtime gateway figures, each next to a bare baseline measured in the same run:
 * - fan-out (also next to socket.io's `io.emit` to as many clients, websocket transport):
 *   1,000 users with one socket each, in 4 groups of 250; each group's creator sends 50 messages
 *   (RT_FANOUT_MESSAGES), all 200 at once (commit, publish to each member's channel, fan-out),
 *   deliveries/s from the first send to the last delivery (50,000), next to a bare `ws` server
 *   sending 50 frames of the same size to all 1,000 sockets (one prebuilt Buffer per message): every message to every client
 *   in one loop (the headline), and one message per turn of the event loop; rounds alternate, after
 *   a warm-up round; medians compared;
 * - latency: chat send on instance 1 → `message.new` on instance 2 (Redis between them), open loop at
 *   each rate of RT_RATES spread over RT_PAIRS direct conversations (stopping after the first rate the
 *   machine does not keep up with), p50/p99 from the moment each frame was written, with send → ack,
 *   next to a Redis pub/sub round trip through a relay process at the same rate;
 * - memory: RSS and heap per idle authenticated connection (RT_IDLE_USERS users) next to a bare `ws`
 *   server's, same count, both run with --expose-gc and collected before each reading, both warmed
 *   up by 100 sockets opened and closed; tickets come from instance 1, sockets open on instance 2.
 *
 *   npm run bench:realtime       (TEST_DATABASE_URL=… to use the machine's Postgres)
 *   RT_CONNECTIONS=2000 RT_RATES=200,500 npm run bench:realtime    (smaller, on a busy machine)
 *   RT_HEAP_SNAPSHOT=/tmp/dir …  also writes heap snapshots before/after the idle sockets (RSS then inflated)
 *   RT_CPU_PROF=/tmp/dir …       and CPU profiles of both Kith instances
 *   RT_MARK=1 …                  prints each Kith fan-out round's start and end (µs, CLOCK_MONOTONIC,
 *                                the profiles' clock) to stderr, to cut the profiles to those windows
 *   RT_POOL=20 …                 DATABASE_POOL_SIZE of the Kith instances (default: Kith's)
 *
 * The same file is the helper processes it starts (RT_ROLE=kith | raw | relay): the server under
 * measurement with a memory probe beside it, the bare `ws` server, the Redis relay.
 */
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';

const ROLE = process.env.RT_ROLE;

// ---- helper processes ---------------------------------------------------------------------------

/** GET /memory: memoryUsage() after full collections; GET /snapshot?file=: a heap snapshot. */
function startProbe(port: number) {
  const collect = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc?.();
      await new Promise((r) => setImmediate(r));
    }
  };
  createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') return res.end('ok');
    if (url.pathname === '/memory') {
      await collect();
      return res.end(JSON.stringify({ gc: typeof globalThis.gc === 'function', ...process.memoryUsage() }));
    }
    if (url.pathname === '/snapshot') {
      await collect();
      return res.end(writeHeapSnapshot(url.searchParams.get('file') ?? undefined));
    }
    res.statusCode = 404;
    res.end();
  })
    .listen(port, '127.0.0.1')
    .unref();
}

/** The bare baseline: `ws` with nothing on top, broadcasting `POST /broadcast?n=&size=`. */
async function rawServer(port: number) {
  const { WebSocketServer } = await import('ws');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') return res.end('ok');
    if (url.pathname === '/broadcast') {
      const n = Number(url.searchParams.get('n') ?? 1);
      const size = Number(url.searchParams.get('size') ?? 400);
      // burst: all n in one synchronous loop; otherwise one event per turn of the event loop, as
      // events reach any broadcaster (and Kith) one by one
      const burst = url.searchParams.has('burst');
      void (async () => {
        for (let i = 0; i < n; i++) {
          const head = `{"type":"message.new","message":{"seq":${i + 1},"body":"`;
          const frame = Buffer.from(`${head}${'x'.repeat(Math.max(0, size - head.length - 3))}"}}`);
          for (const client of wss.clients) client.send(frame, { binary: false });
          if (!burst) await new Promise((r) => setImmediate(r));
        }
      })();
      return res.end('sent');
    }
    res.statusCode = 404;
    res.end();
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
  server.listen(port, '127.0.0.1');
}

/** The socket.io baseline: `io.emit` of the same frames to every connected client (websocket transport). */
async function socketIoServer(port: number) {
  const { Server } = await import('socket.io');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') return res.end('ok');
    if (url.pathname === '/broadcast') {
      const n = Number(url.searchParams.get('n') ?? 1);
      const size = Number(url.searchParams.get('size') ?? 400);
      for (let i = 0; i < n; i++) {
        const head = `{"type":"message.new","message":{"seq":${i + 1},"body":"`;
        io.emit('message.new', `${head}${'x'.repeat(Math.max(0, size - head.length - 3))}"}}`);
      }
      return res.end('sent');
    }
    res.statusCode = 404;
    res.end();
  });
  const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  server.listen(port, '127.0.0.1');
}

/** The latency baseline: whatever arrives on `bench:ping` is published again on `bench:pong`. */
async function relay(redisUrl: string) {
  const { Redis } = await import('ioredis');
  const [sub, pub] = [new Redis(redisUrl), new Redis(redisUrl)];
  sub.on('message', (_channel: string, message: string) => void pub.publish('bench:pong', message));
  await sub.subscribe('bench:ping');
  createServer((_req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
}

if (ROLE === 'kith') {
  startProbe(Number(process.env.RT_PROBE_PORT));
  await import(process.env.RT_SERVER_MAIN!);
} else if (ROLE === 'raw') {
  startProbe(Number(process.env.RT_PROBE_PORT));
  await rawServer(Number(process.env.PORT));
} else if (ROLE === 'socketio') {
  await socketIoServer(Number(process.env.PORT));
} else if (ROLE === 'relay') {
  await relay(process.env.RT_REDIS_URL!);
} else {
  driver().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

// ---- the benchmark --------------------------------------------------------------------------------

async function driver() {
  const { spawn } = await import('node:child_process');
  const { randomBytes, randomUUID } = await import('node:crypto');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { cpus, loadavg, tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const { default: WebSocket } = await import('ws');
  const { Redis } = await import('ioredis');
  const { createBenchDatabase } = await import('./lib/database.ts');
  const { freePort, productionEnv, SERVER_MAIN, startNode, stopAll } = await import('./lib/processes.ts');
  const { percentile, round, table, writeResult } = await import('./lib/report.ts');
  type Socket = InstanceType<typeof WebSocket>;

  const SELF = fileURLToPath(import.meta.url);
  const FANOUT_SOCKETS = 1000;
  const FANOUT_ROUNDS = Number(process.env.RT_FANOUT_ROUNDS ?? 5);
  const FANOUT_GROUPS = 4;
  const GROUP_SIZE = FANOUT_SOCKETS / FANOUT_GROUPS;
  const MESSAGES_PER_GROUP = Number(process.env.RT_FANOUT_MESSAGES ?? 50);
  const FANOUT_MESSAGES = FANOUT_GROUPS * MESSAGES_PER_GROUP;
  const IDLE_CONNECTIONS = Number(process.env.RT_CONNECTIONS ?? 10_000);
  const IDLE_USERS = Number(process.env.RT_IDLE_USERS ?? 100);
  const RATES = (process.env.RT_RATES ?? '250,500,750,1000').split(',').map(Number);
  const PAIRS = Number(process.env.RT_PAIRS ?? 50);
  const LATENCY_SECONDS = 4;
  const BODY = 'x'.repeat(200);
  const SNAPSHOTS = process.env.RT_HEAP_SNAPSHOT;
  const CPU_PROFILES = process.env.RT_CPU_PROF;

  const post = async (url: string, token?: string, body?: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
    return json!;
  };

  const signup = async (base: string) => {
    const username = `b_${randomBytes(6).toString('hex')}`;
    const body = await post(`${base}/api/v1/auth/signup`, undefined, {
      username,
      email: `${username}@example.com`,
      password: `bench password ${randomUUID()}`,
    });
    return { username, token: body.accessToken as string, id: (body.user as { id: string }).id };
  };

  /** `count` users, a few signups at a time (argon2id is meant to be slow). */
  const signups = async (base: string, count: number) => {
    const users: { username: string; token: string; id: string }[] = [];
    while (users.length < count) {
      const n = Math.min(4, count - users.length);
      users.push(...(await Promise.all(Array.from({ length: n }, () => signup(base)))));
    }
    return users;
  };

  let api = '';
  /** Opens `count` authenticated sockets for `token`, each resolved once its `hello` arrived. */
  const openSockets = async (
    base: string,
    token: string,
    count: number,
    onMessage?: (data: Buffer, isBinary: boolean) => void,
  ) => {
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, async () => {
          // tickets come from the API instance (as in the scaled shape), sockets open on `base`
          const { ticket } = (await post(`${api}/api/v1/realtime/ticket`, token)) as { ticket: string };
          const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/realtime?ticket=${ticket}`, {
            perMessageDeflate: false,
          });
          await new Promise<void>((resolve, reject) => {
            ws.once('message', () => resolve()); // hello
            ws.once('error', reject);
          });
          if (onMessage) ws.on('message', onMessage);
          return ws;
        }),
      );
      sockets.push(...batch);
    }
    return sockets;
  };

  const openRaw = async (
    base: string,
    count: number,
    onMessage: (data: Buffer, isBinary: boolean) => void,
  ) => {
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, async () => {
          const ws = new WebSocket(base.replace('http', 'ws'), { perMessageDeflate: false });
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('error', reject);
          });
          ws.on('message', onMessage);
          return ws;
        }),
      );
      sockets.push(...batch);
    }
    return sockets;
  };

  const closeAll = async (sockets: Socket[]) => {
    await Promise.all(
      sockets.map((ws) => {
        if (ws.readyState === ws.CLOSED) return undefined;
        const closed = new Promise((r) => ws.once('close', r));
        ws.close(1000);
        return closed;
      }),
    );
  };

  /** Resolves `reached` on the `target`-th tick. */
  const counter = (target: number) => {
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
  };

  const within = <T>(promise: Promise<T>, ms: number, what: string) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${what} not done within ${ms} ms`)), ms).unref(),
      ),
    ]);

  /**
   * Calls `send(i)` for i < rate × seconds at the rate, open loop: it never waits for an answer, and
   * a tick that comes late sends everything that has fallen due. Returns the rate achieved.
   */
  const openLoop = (rate: number, seconds: number, send: (i: number) => void) =>
    new Promise<{ sentPerSecond: number; lateMsP99: number }>((resolve) => {
      const total = Math.round(rate * seconds);
      const late: number[] = [];
      const start = performance.now();
      let i = 0;
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
        for (; i < due; i++) {
          late.push(performance.now() - (start + (i * 1000) / rate));
          send(i);
        }
        if (i < total) setTimeout(tick, 1);
        else {
          const sentPerSecond = total / ((performance.now() - start) / 1000);
          resolve({ sentPerSecond: round(sentPerSecond), lateMsP99: round(percentile(late, 99), 2) });
        }
      };
      tick();
    });

  const memoryOf = async (probe: string) =>
    (await (await fetch(`${probe}/memory`)).json()) as {
      gc: boolean;
      rss: number;
      heapUsed: number;
      external: number;
      arrayBuffers: number;
    };

  const startRedis = async (dir: string) => {
    const port = await freePort();
    const child = spawn(
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
  };

  const loadAtStart = round(loadavg()[0]!, 2);
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-rt-'));
  const db = await createBenchDatabase();
  const redis = await startRedis(dir);
  const redisClients: InstanceType<typeof Redis>[] = [];
  try {
    await Promise.race([run(), within(new Promise(() => {}), 480_000, 'bench:realtime')]);
  } finally {
    for (const client of redisClients) client.disconnect();
    await stopAll();
    await redis.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }

  async function run() {
    const [p1, p2, pRaw, pRelay, probe2, probeRaw] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const env = {
      ...productionEnv(db.url, p1, dir),
      REDIS_URL: redis.url,
      MEDIA_SIGNING_SECRET: randomBytes(32).toString('hex'),
      CHAT_FRIENDS_ONLY: 'false',
      RATE_LIMIT_SIGNUP_IP: '1000000',
      RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
      RATE_LIMIT_UNVERIFIED_PER_HOUR: '0', // fresh sign-ups, never verified
      REALTIME_MAX_CONNECTIONS_PER_USER: '1000',
      REALTIME_MAX_MESSAGES_PER_10S: '100000',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      ...(process.env.RT_POOL ? { DATABASE_POOL_SIZE: process.env.RT_POOL } : {}),
      RT_ROLE: 'kith',
      RT_SERVER_MAIN: SERVER_MAIN,
    };
    const kithProcess = (what: string, port: number, probe: number, roles: string) =>
      startNode({
        what,
        script: SELF,
        cwd: join(SERVER_MAIN, '../..'),
        port,
        env: { ...env, PORT: String(port), KITH_ROLES: roles, RT_PROBE_PORT: String(probe) },
        readyPath: '/readyz',
        logFile: join(dir, `${what.replace(' ', '')}.log`),
        nodeArgs: [
          '--expose-gc',
          ...(CPU_PROFILES
            ? ['--cpu-prof', '--cpu-prof-dir', join(CPU_PROFILES, what.replace(' ', ''))]
            : []),
        ],
      });
    const one = await kithProcess('Kith 1', p1, await freePort(), 'api,realtime');
    api = one.url;
    const two = await kithProcess('Kith 2', p2, probe2, 'realtime');
    const raw = await startNode({
      what: 'bare ws',
      script: SELF,
      port: pRaw,
      env: { PORT: String(pRaw), RT_ROLE: 'raw', RT_PROBE_PORT: String(probeRaw) },
      readyPath: '/health',
      logFile: join(dir, 'raw.log'),
      nodeArgs: [
        '--expose-gc',
        ...(CPU_PROFILES ? ['--cpu-prof', '--cpu-prof-dir', join(CPU_PROFILES, 'raw')] : []),
      ],
    });
    await startNode({
      what: 'Redis relay',
      script: SELF,
      port: pRelay,
      env: { PORT: String(pRelay), RT_ROLE: 'relay', RT_REDIS_URL: redis.url },
      readyPath: '/',
      logFile: join(dir, 'relay.log'),
    });

    // ---- fan-out --------------------------------------------------------------------------------
    // FANOUT_GROUPS groups of GROUP_SIZE members each (1,000 users, one socket each); every group's
    // creator sends MESSAGES_PER_GROUP messages, all at once, so the groups' sends commit side by
    // side as a busy gateway sees them. Each message reaches its group's GROUP_SIZE sockets (the
    // sender's own included), published once per member channel.
    const fanoutUsers = await signups(one.url, FANOUT_SOCKETS);
    const groupMembers = Array.from({ length: FANOUT_GROUPS }, (_, g) =>
      fanoutUsers.slice(g * GROUP_SIZE, (g + 1) * GROUP_SIZE),
    );
    const groups = await Promise.all(
      groupMembers.map(
        async ([creator, ...others]) =>
          (await post(`${one.url}/api/v1/conversations`, creator!.token, {
            usernames: others.map((m) => m.username),
            title: 'fan-out',
          })) as { id: string },
      ),
    );
    const deliveries = FANOUT_MESSAGES * GROUP_SIZE;
    // the baselines broadcast to all 1,000 sockets: as many deliveries from fewer messages
    const BASELINE_MESSAGES = deliveries / FANOUT_SOCKETS;
    let kithCount = counter(deliveries);
    let frameBytes = 0;
    const NEW = Buffer.from('{"type":"message.new"');
    // every event must arrive as a text frame whose JSON starts with its type
    const isNew = (d: Buffer, isBinary: boolean) => !isBinary && d.subarray(0, NEW.length).equals(NEW);
    const receivers: Socket[] = [];
    for (let i = 0; i < fanoutUsers.length; i += 50) {
      receivers.push(
        ...(
          await Promise.all(
            fanoutUsers.slice(i, i + 50).map((u) =>
              openSockets(one.url, u.token, 1, (d, isBinary) => {
                if (isNew(d, isBinary)) {
                  frameBytes = d.length;
                  kithCount.tick();
                }
              }),
            ),
          )
        ).flat(),
      );
    }
    // each group's creator (its first member) sends
    const senderSockets = groupMembers.map((_, g) => receivers[g * GROUP_SIZE]!);
    // when the last send of a round was acknowledged (committed and published)
    const ACK = Buffer.from('{"type":"message.ack"');
    let lastAckAt = 0;
    for (const ws of senderSockets) {
      ws.on('message', (d: Buffer) => {
        if (d.subarray(0, ACK.length).equals(ACK)) lastAckAt = performance.now();
      });
    }
    const ackedWithinMs: number[] = [];
    let rawCount = counter(deliveries);
    const rawSockets = await openRaw(raw.url, FANOUT_SOCKETS, (d, isBinary) => {
      if (isNew(d, isBinary)) rawCount.tick();
    });
    const kithRounds: number[] = [];
    const rawRounds: number[] = [];
    const rawBurstRounds: number[] = [];
    // a first untimed round warms both up (JIT, pools)
    for (let round = 0; round <= FANOUT_ROUNDS; round++) {
      if (process.env.RT_MARK) console.error(`kith fan-out from ${process.hrtime.bigint() / 1000n}`);
      kithCount = counter(deliveries);
      const started = performance.now();
      for (let i = 0; i < FANOUT_MESSAGES; i++) {
        senderSockets[i % FANOUT_GROUPS]!.send(
          JSON.stringify({
            type: 'message.send',
            conversationId: groups[i % FANOUT_GROUPS]!.id,
            clientMessageId: randomUUID(),
            body: BODY,
          }),
        );
      }
      await within(kithCount.reached, 60_000, 'Kith fan-out').catch((err) => {
        const closed = receivers.filter((r) => r.readyState !== r.OPEN).length;
        console.error(
          `Kith fan-out: ${kithCount.count} of ${deliveries} delivered, ${closed} sockets closed`,
        );
        throw err;
      });
      const kith = deliveries / ((performance.now() - started) / 1000);
      if (round > 0) ackedWithinMs.push(lastAckAt - started);
      if (process.env.RT_MARK) console.error(`kith fan-out to ${process.hrtime.bigint() / 1000n}`);

      const bare = async (query: string) => {
        rawCount = counter(deliveries);
        const begun = performance.now();
        await fetch(`${raw.url}/broadcast?n=${BASELINE_MESSAGES}&size=${frameBytes}${query}`, {
          method: 'POST',
        });
        await within(rawCount.reached, 60_000, 'bare ws fan-out');
        return deliveries / ((performance.now() - begun) / 1000);
      };
      const [rawOne, rawBurst] = [await bare(''), await bare('&burst')];

      if (round > 0) {
        kithRounds.push(kith);
        rawRounds.push(rawOne);
        rawBurstRounds.push(rawBurst);
      }
    }
    await closeAll([...receivers, ...rawSockets]);

    // socket.io, the broadcaster most Node apps use: the same frames to the same number of clients
    const pIo = await freePort();
    const ioServer = await startNode({
      what: 'socket.io',
      script: SELF,
      port: pIo,
      env: { PORT: String(pIo), RT_ROLE: 'socketio' },
      readyPath: '/health',
      logFile: join(dir, 'socketio.log'),
      nodeArgs: [],
    });
    const { io: ioClient } = await import('socket.io-client');
    let ioCount = counter(deliveries);
    const ioSockets: ReturnType<typeof ioClient>[] = [];
    for (let i = 0; i < FANOUT_SOCKETS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, FANOUT_SOCKETS - i) }, async () => {
          const socket = ioClient(ioServer.url, {
            transports: ['websocket'],
            forceNew: true,
            reconnection: false,
          });
          await new Promise((resolve, reject) => {
            socket.once('connect', () => resolve(undefined));
            socket.once('connect_error', reject);
          });
          socket.on('message.new', () => ioCount.tick());
          return socket;
        }),
      );
      ioSockets.push(...batch);
    }
    const ioRounds: number[] = [];
    for (let round = 0; round <= FANOUT_ROUNDS; round++) {
      ioCount = counter(deliveries);
      const begun = performance.now();
      await fetch(`${ioServer.url}/broadcast?n=${BASELINE_MESSAGES}&size=${frameBytes}`, { method: 'POST' });
      await within(ioCount.reached, 60_000, 'socket.io fan-out');
      if (round > 0) ioRounds.push(deliveries / ((performance.now() - begun) / 1000));
    }
    for (const socket of ioSockets) socket.disconnect();
    const socketIoFanout = percentile(ioRounds, 50);

    const kithFanout = percentile(kithRounds, 50);
    // the headline baseline is ws's classic broadcast: every message to every client in one loop
    const rawFanout = percentile(rawBurstRounds, 50);
    const rawOneByOne = percentile(rawRounds, 50);

    // ---- latency across instances ---------------------------------------------------------------
    const users = await signups(one.url, PAIRS * 2);
    const pairs = await Promise.all(
      Array.from({ length: PAIRS }, async (_, i) => {
        const [a, b] = [users[2 * i]!, users[2 * i + 1]!];
        const { id } = (await post(`${one.url}/api/v1/conversations`, a.token, {
          usernames: [b.username],
        })) as { id: string };
        return { a, b, conversationId: id };
      }),
    );
    const sentAt = new Map<string, number>();
    let latencies: number[] = [];
    let ackLatencies: number[] = [];
    let acked = counter(0);
    const onAck = (d: Buffer) => {
      const at = performance.now();
      if (!d.subarray(0, ACK.length).equals(ACK)) return;
      const sent = sentAt.get(JSON.parse(d.toString()).clientMessageId);
      if (sent === undefined) return;
      ackLatencies.push(at - sent);
      acked.tick();
    };
    let got = counter(0);
    const onDelivery = (d: Buffer, isBinary: boolean) => {
      const at = performance.now();
      if (!isNew(d, isBinary)) return;
      const sent = sentAt.get(JSON.parse(d.toString()).message.clientMessageId);
      if (sent === undefined) return;
      latencies.push(at - sent);
      got.tick();
    };
    const recipients = (
      await Promise.all(pairs.map(({ b }) => openSockets(two.url, b.token, 1, onDelivery)))
    ).flat();
    const senders = (await Promise.all(pairs.map(({ a }) => openSockets(one.url, a.token, 1, onAck)))).flat();
    const sendChat = (i: number) => {
      const id = randomUUID();
      sentAt.set(id, performance.now());
      senders[i % PAIRS]!.send(
        JSON.stringify({
          type: 'message.send',
          conversationId: pairs[i % PAIRS]!.conversationId,
          clientMessageId: id,
          body: BODY,
        }),
      );
    };

    const pub = new Redis(redis.url);
    const sub = new Redis(redis.url);
    redisClients.push(pub, sub);
    await sub.subscribe('bench:pong');
    sub.on('message', (_channel: string, message: string) => {
      const at = performance.now();
      const sent = sentAt.get(message.slice(0, 36));
      if (sent === undefined) return;
      latencies.push(at - sent);
      got.tick();
    });
    const sendRedis = () => {
      const id = randomUUID();
      sentAt.set(id, performance.now());
      void pub.publish('bench:ping', `${id}${BODY}`);
    };

    const waitFor = (promise: Promise<void>, ms: number) =>
      Promise.race([promise, new Promise((r) => setTimeout(r, ms).unref())]);
    const measure = async (rate: number, send: (i: number) => void, chat: boolean) => {
      const total = Math.round(rate * LATENCY_SECONDS);
      latencies = [];
      ackLatencies = [];
      sentAt.clear();
      got = counter(total);
      acked = counter(total);
      const started = performance.now();
      const sending = await openLoop(rate, LATENCY_SECONDS, send);
      await waitFor(got.reached, 15_000);
      const deliveredPerSecond = round(got.count / ((performance.now() - started) / 1000));
      const delivered = got.count;
      // a backlog left behind would slow the next run down: let every send be answered first
      if (chat) await waitFor(acked.reached, 30_000);
      return {
        rate,
        ...sending,
        deliveredPerSecond,
        delivered,
        notDeliveredIn15s: total - delivered,
        p50Ms: round(percentile(latencies, 50), 2),
        p99Ms: round(percentile(latencies, 99), 2),
        ...(ackLatencies.length > 0
          ? {
              ackP50Ms: round(percentile(ackLatencies, 50), 2),
              ackP99Ms: round(percentile(ackLatencies, 99), 2),
            }
          : {}),
      };
    };
    await measure(Math.min(...RATES), sendChat, true); // warm-up, not reported
    const latency: {
      kith: Awaited<ReturnType<typeof measure>>;
      redisRoundTrip: Awaited<ReturnType<typeof measure>>;
    }[] = [];
    for (const rate of RATES) {
      const redisRoundTrip = await measure(rate, sendRedis, false);
      const kith = await measure(rate, sendChat, true);
      latency.push({ kith, redisRoundTrip });
      // a rate this machine did not keep up with says nothing more at a higher one
      if (kith.deliveredPerSecond < 0.9 * rate) break;
    }
    await closeAll([...recipients, ...senders]);

    // ---- idle connection memory -----------------------------------------------------------------
    const idleUsers = await signups(one.url, IDLE_USERS);
    const perUser = Math.ceil(IDLE_CONNECTIONS / IDLE_USERS);
    const snapshot = async (probe: number, name: string) => {
      if (!SNAPSHOTS) return;
      await fetch(`http://127.0.0.1:${probe}/snapshot?file=${join(SNAPSHOTS, name)}`);
    };
    // both servers have opened and closed the same few sockets before the first reading (warm code paths)
    await closeAll(await openSockets(two.url, idleUsers[0]!.token, 100));
    await closeAll(await openRaw(raw.url, 100, () => {}));
    const kithBefore = await memoryOf(`http://127.0.0.1:${probe2}`);
    await snapshot(probe2, 'kith-before.heapsnapshot');
    const idle: Socket[] = [];
    for (let i = 0; i < IDLE_CONNECTIONS; i += perUser) {
      const user = idleUsers[i / perUser]!;
      idle.push(...(await openSockets(two.url, user.token, Math.min(perUser, IDLE_CONNECTIONS - i))));
    }
    const kithAfter = await memoryOf(`http://127.0.0.1:${probe2}`);
    await snapshot(probe2, 'kith-after.heapsnapshot');
    await closeAll(idle);
    const rawBefore = await memoryOf(`http://127.0.0.1:${probeRaw}`);
    await snapshot(probeRaw, 'raw-before.heapsnapshot');
    const rawIdle = await openRaw(raw.url, IDLE_CONNECTIONS, () => {});
    const rawAfter = await memoryOf(`http://127.0.0.1:${probeRaw}`);
    await snapshot(probeRaw, 'raw-after.heapsnapshot');
    await closeAll(rawIdle);

    const per = (after: number, before: number) => Math.round((after - before) / IDLE_CONNECTIONS);
    const memory = {
      connections: IDLE_CONNECTIONS,
      users: IDLE_USERS,
      gcForced: kithAfter.gc && rawAfter.gc,
      kith: {
        rssBytesPerConnection: per(kithAfter.rss, kithBefore.rss),
        heapUsedBytesPerConnection: per(kithAfter.heapUsed, kithBefore.heapUsed),
        externalBytesPerConnection: per(kithAfter.external, kithBefore.external),
      },
      rawWs: {
        rssBytesPerConnection: per(rawAfter.rss, rawBefore.rss),
        heapUsedBytesPerConnection: per(rawAfter.heapUsed, rawBefore.heapUsed),
        externalBytesPerConnection: per(rawAfter.external, rawBefore.external),
      },
      rssRatio: 0,
    };
    memory.rssRatio = round(memory.kith.rssBytesPerConnection / memory.rawWs.rssBytesPerConnection, 2);

    const result = {
      cpus: cpus().length,
      loadAverage1mAtStart: loadAtStart,
      command: `RT_CONNECTIONS=${IDLE_CONNECTIONS} RT_IDLE_USERS=${IDLE_USERS} RT_RATES=${RATES.join(',')} RT_PAIRS=${PAIRS} npm run bench:realtime`,
      fanout: {
        sockets: FANOUT_SOCKETS,
        messages: FANOUT_MESSAGES,
        groups: FANOUT_GROUPS,
        groupSize: GROUP_SIZE,
        frameBytes,
        rounds: FANOUT_ROUNDS,
        kithPerSecond: round(kithFanout),
        rawWsPerSecond: round(rawFanout),
        ratio: round(kithFanout / rawFanout, 2),
        kithRounds: kithRounds.map((n) => round(n)),
        // how long the 200 sends took to be committed, published and acknowledged, per round
        kithLastAckMs: ackedWithinMs.map((n) => round(n)),
        kithLastDeliveryMs: kithRounds.map((n) => round((deliveries / n) * 1000)),
        rawWsRounds: rawBurstRounds.map((n) => round(n)),
        socketIoPerSecond: round(socketIoFanout),
        ratioToSocketIo: round(kithFanout / socketIoFanout, 2),
        socketIoRounds: ioRounds.map((n) => round(n)),
        rawWsOneEventPerTurnPerSecond: round(rawOneByOne),
        ratioToOneEventPerTurn: round(kithFanout / rawOneByOne, 2),
      },
      latency: { pairs: PAIRS, seconds: LATENCY_SECONDS, runs: latency },
      memory,
    };
    console.log(
      table([
        ['figure', 'Kith', 'baseline', 'ratio'],
        [
          `fan-out deliveries/s (${FANOUT_SOCKETS} sockets; bare ws, one loop)`,
          result.fanout.kithPerSecond,
          result.fanout.rawWsPerSecond,
          result.fanout.ratio,
        ],
        [
          '  … socket.io io.emit (goal ≥ 2×)',
          '',
          result.fanout.socketIoPerSecond,
          result.fanout.ratioToSocketIo,
        ],
        [
          '  … bare ws, one message per turn',
          '',
          result.fanout.rawWsOneEventPerTurnPerSecond,
          result.fanout.ratioToOneEventPerTurn,
        ],
        ...latency.flatMap(({ kith, redisRoundTrip: r }) => [
          [
            `send→delivery p50 / p99 ms at ${kith.rate}/s (sent ${kith.sentPerSecond}/s, got ${kith.deliveredPerSecond}/s; Redis round trip)`,
            `${kith.p50Ms} / ${kith.p99Ms}`,
            `${r.p50Ms} / ${r.p99Ms}`,
            '',
          ],
          ['  … send→ack p50 / p99 ms', `${kith.ackP50Ms} / ${kith.ackP99Ms}`, '', ''],
        ]),
        [
          `RSS per idle connection (${IDLE_CONNECTIONS}; bare ws)`,
          `${memory.kith.rssBytesPerConnection} B`,
          `${memory.rawWs.rssBytesPerConnection} B`,
          memory.rssRatio,
        ],
        [
          'heap used per idle connection',
          `${memory.kith.heapUsedBytesPerConnection} B`,
          `${memory.rawWs.heapUsedBytesPerConnection} B`,
          '',
        ],
      ]),
    );
    console.log(`written to ${await writeResult('realtime', result)}`);
  }
}
