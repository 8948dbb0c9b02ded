/**
 * Kith's per-request overhead: authenticated `GET /api/v1/me` on the real server (production
 * mode, every hook on, one log line per request) next to three baselines on the same Node in the
 * same run, with the same load: two bare Fastify routes — `GET /hello` and `GET /pk/:id` (one
 * primary-key SELECT) — and a hello with only the standard plugins Kith uses (helmet, CORS,
 * compress, under-pressure, one pino access-log line per request: `lib/plugin-server.ts`).
 * Goals: `/me` ≥ 0.7 × the plugin hello and ≥ 0.3 × the bare hello.
 *
 *   npm run bench:http            (TEST_DATABASE_URL=… to use the machine's Postgres)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createBenchDatabase } from './lib/database.ts';
import { type LoadOptions, type LoadResult, load, warmUp } from './lib/load.ts';
import {
  BARE_SERVER,
  cpuSeconds,
  freePort,
  PLUGIN_SERVER,
  productionEnv,
  SERVER_MAIN,
  startNode,
  stopAll,
} from './lib/processes.ts';
import { round, table, writeResult } from './lib/report.ts';

const CONNECTIONS = 20;
const DURATION_S = 10;
const GOALS = { meVsPluginHello: 0.7, meVsHello: 0.3 };

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** Signs a user up over HTTP and returns an access token (from the signup answer, or a login). */
async function accessTokenFor(baseUrl: string): Promise<string> {
  const credentials = {
    username: 'bench_user',
    email: 'bench@example.com',
    password: 'bench password 0123456789',
  };
  const signup = await json(`${baseUrl}/api/v1/auth/signup`, {
    method: 'POST',
    body: JSON.stringify(credentials),
  });
  if (signup.status !== 201)
    throw new Error(`signup answered ${signup.status}: ${JSON.stringify(signup.body)}`);
  const token = (signup.body as { accessToken?: string }).accessToken;
  if (token) return token;
  const login = await json(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ login: credentials.username, password: credentials.password }),
  });
  const loggedIn = (login.body as { accessToken?: string }).accessToken;
  if (!loggedIn) throw new Error(`login answered ${login.status}: ${JSON.stringify(login.body)}`);
  return loggedIn;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-http-'));
  const db = await createBenchDatabase();
  try {
    const kithPort = await freePort();
    const kith = await startNode({
      what: 'Kith',
      script: SERVER_MAIN,
      cwd: join(SERVER_MAIN, '../..'),
      port: kithPort,
      env: {
        ...productionEnv(db.url, kithPort, join(dir, 'data')),
        // measure the request path, not the limiter's 429s or load shedding at saturation
        RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
        MAX_EVENT_LOOP_UTILIZATION: '0',
        MAX_EVENT_LOOP_DELAY_MS: '0',
      },
      readyPath: '/readyz',
      logFile: join(dir, 'kith.log'),
    });
    const token = await accessTokenFor(kith.url);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM users WHERE username = 'bench_user'`);
    await client.end();

    const barePort = await freePort();
    const bare = await startNode({
      what: 'bare Fastify',
      script: BARE_SERVER,
      port: barePort,
      env: { DATABASE_URL: db.url, PORT: String(barePort), POOL_SIZE: '10' },
      readyPath: '/hello',
      logFile: join(dir, 'bare.log'),
    });
    const pluginPort = await freePort();
    const plugins = await startNode({
      what: 'Fastify with the standard plugins',
      script: PLUGIN_SERVER,
      port: pluginPort,
      env: { PORT: String(pluginPort), MAX_EVENT_LOOP_UTILIZATION: '0', MAX_EVENT_LOOP_DELAY_MS: '0' },
      readyPath: '/hello',
      logFile: join(dir, 'plugins.log'),
    });

    const targets: { name: string; options: LoadOptions; pid: number }[] = [
      {
        name: 'bare GET /hello',
        pid: bare.child.pid!,
        options: { url: `${bare.url}/hello`, connections: CONNECTIONS, duration: DURATION_S },
      },
      {
        name: 'plugins GET /hello (helmet, CORS, compress, under-pressure, access log)',
        pid: plugins.child.pid!,
        options: { url: `${plugins.url}/hello`, connections: CONNECTIONS, duration: DURATION_S },
      },
      {
        name: 'bare GET /pk/:id (one PK SELECT)',
        pid: bare.child.pid!,
        options: { url: `${bare.url}/pk/${rows[0]!.id}`, connections: CONNECTIONS, duration: DURATION_S },
      },
      {
        name: 'Kith GET /api/v1/me (authenticated)',
        pid: kith.child.pid!,
        options: {
          url: `${kith.url}/api/v1/me`,
          connections: CONNECTIONS,
          duration: DURATION_S,
          headers: { authorization: `Bearer ${token}` },
        },
      },
    ];
    const results: Record<string, LoadResult & { serverCpuUsPerRequest: number }> = {};
    for (const target of targets) {
      process.stderr.write(`measuring ${target.name} …\n`);
      await warmUp(target.options);
      const cpuBefore = cpuSeconds(target.pid);
      const result = await load(target.options);
      const cpu = cpuSeconds(target.pid) - cpuBefore;
      results[target.name] = { ...result, serverCpuUsPerRequest: round((cpu * 1e6) / result.requests, 0) };
    }
    const [hello, pluginHello, pk, me] = targets.map((t) => results[t.name]!);
    const ratios = {
      meVsHello: round(me!.requestsPerSecond / hello!.requestsPerSecond, 2),
      meVsPluginHello: round(me!.requestsPerSecond / pluginHello!.requestsPerSecond, 2),
      meVsPrimaryKeySelect: round(me!.requestsPerSecond / pk!.requestsPerSecond, 2),
      pluginHelloVsHello: round(pluginHello!.requestsPerSecond / hello!.requestsPerSecond, 2),
      // the same comparisons by the server's own CPU time per request (inverted: cost of the
      // baseline ÷ cost of /me), steadier than throughput when other work shares the cores
      cpuMeVsPluginHello: round(pluginHello!.serverCpuUsPerRequest / me!.serverCpuUsPerRequest, 2),
      cpuMeVsHello: round(hello!.serverCpuUsPerRequest / me!.serverCpuUsPerRequest, 2),
    };

    console.log(
      `\nHTTP overhead — ${CONNECTIONS} connections, ${DURATION_S} s each after a 2 s warm-up; ` +
        `load generator and server are separate processes sharing ${cpus().length} cores; database: ${db.server}\n`,
    );
    console.log(
      table([
        ['target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'non-2xx', 'errors'],
        ...targets.map((t) => {
          const r = results[t.name]!;
          return [t.name, r.requestsPerSecond, r.p50Ms, r.p99Ms, r.serverCpuUsPerRequest, r.non2xx, r.errors];
        }),
      ]),
    );
    console.log(
      `\n/me ÷ plugin hello: ${ratios.meVsPluginHello} (goal ≥ ${GOALS.meVsPluginHello})    ` +
        `/me ÷ bare hello: ${ratios.meVsHello} (goal ≥ ${GOALS.meVsHello})    ` +
        `/me ÷ PK SELECT: ${ratios.meVsPrimaryKeySelect}    plugin hello ÷ bare hello: ${ratios.pluginHelloVsHello}\n` +
        `by server CPU per request: /me ÷ plugin hello ${ratios.cpuMeVsPluginHello}, /me ÷ bare hello ${ratios.cpuMeVsHello}`,
    );
    const file = await writeResult('http-overhead', {
      settings: { connections: CONNECTIONS, durationSeconds: DURATION_S, database: db.server },
      note:
        'server and load generator are separate processes on the same machine; serverCpuUsPerRequest is ' +
        'the server process’s user+system CPU time during the measurement divided by its requests (the ' +
        'PK route’s excludes what Postgres spent)',
      results,
      ratios,
      goals: GOALS,
    });
    console.log(`written to ${file}`);
  } finally {
    await stopAll();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
