/**
 * Logins per second and their p95 with argon2id at the configured cost (defaults: OWASP's minimum,
 * m=19 MiB, t=2, p=1), and proof that hashing does not stall the event loop: `/livez` p99 probed
 * at a steady rate alone, then during the login load (@node-rs/argon2 hashes off the main thread).
 *
 *   npm run bench:login           (TEST_DATABASE_URL=… to use the machine's Postgres)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../apps/server/src/config.ts';
import { createBenchDatabase } from './lib/database.ts';
import { type LoadOptions, load, warmUp } from './lib/load.ts';
import { freePort, productionEnv, SERVER_MAIN, startNode, stopAll } from './lib/processes.ts';
import { round, table, writeResult } from './lib/report.ts';

const ACCOUNTS = 8;
const LOGIN_CONNECTIONS = 4;
const DURATION_S = 15;
const PROBE_RATE = 50; // /livez requests per second, one connection

/**
 * The server's own event-loop delay since the previous call, in ms (prom-client resets its
 * histogram at every scrape, so the first call of a phase only starts the measurement).
 */
async function eventLoopDelay(baseUrl: string, token: string) {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  const read = (name: string) => {
    const match = new RegExp(`^kith_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    return match ? round(Number(match[1]) * 1000, 2) : Number.NaN;
  };
  return { p50Ms: read('p50'), p99Ms: read('p99'), maxMs: read('max') };
}

async function main() {
  const argon2 = loadConfig({}).argon2; // the defaults the server runs with below
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-login-'));
  const db = await createBenchDatabase();
  try {
    const port = await freePort();
    const env = productionEnv(db.url, port, join(dir, 'data'));
    const kith = await startNode({
      what: 'Kith',
      script: SERVER_MAIN,
      cwd: join(SERVER_MAIN, '../..'),
      port,
      env: {
        ...env,
        // one client address sends every login: lift the per-IP and per-account limits so the
        // figure is the hashing path, not the limiter's 429s
        RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
        RATE_LIMIT_SIGNUP_IP: '1000000',
        RATE_LIMIT_LOGIN_IP: '1000000',
        RATE_LIMIT_LOGIN_ACCOUNT: '10000',
        MAX_EVENT_LOOP_UTILIZATION: '0',
        MAX_EVENT_LOOP_DELAY_MS: '0',
      },
      readyPath: '/readyz',
      logFile: join(dir, 'kith.log'),
    });

    const bodies: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = {
        username: `bench_${i}`,
        email: `bench_${i}@example.com`,
        password: `bench password ${i} 0123456789`,
      };
      const res = await fetch(`${kith.url}/api/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(account),
      });
      if (res.status !== 201) throw new Error(`signup answered ${res.status}: ${await res.text()}`);
      bodies.push(JSON.stringify({ login: account.username, password: account.password }));
    }

    const logins: LoadOptions = {
      url: `${kith.url}/api/v1/auth/login`,
      method: 'POST',
      bodies,
      connections: LOGIN_CONNECTIONS,
      duration: DURATION_S,
    };
    const probe: LoadOptions = {
      url: `${kith.url}/livez`,
      connections: 1,
      overallRate: PROBE_RATE,
      duration: DURATION_S,
    };

    process.stderr.write('measuring /livez alone …\n');
    await warmUp(probe);
    await eventLoopDelay(kith.url, env.METRICS_TOKEN!);
    const livezAlone = await load({ ...probe, duration: 5 });
    const loopAlone = await eventLoopDelay(kith.url, env.METRICS_TOKEN!);
    process.stderr.write('measuring logins with /livez alongside …\n');
    await warmUp(logins);
    await eventLoopDelay(kith.url, env.METRICS_TOKEN!);
    const [loginLoad, livezDuring] = await Promise.all([load(logins), load(probe)]);
    const loopDuring = await eventLoopDelay(kith.url, env.METRICS_TOKEN!);

    console.log(
      `\nLogin — argon2id m=${argon2.memoryCost} KiB, t=${argon2.timeCost}, p=${argon2.parallelism}; ` +
        `${LOGIN_CONNECTIONS} connections over ${ACCOUNTS} accounts for ${DURATION_S} s; ` +
        `/livez probed at ${PROBE_RATE}/s; load generator and server share ${cpus().length} cores; database: ${db.server}\n`,
    );
    console.log(
      table([
        ['measure', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'non-2xx', 'errors'],
        ...(
          [
            ['POST /api/v1/auth/login', loginLoad],
            ['GET /livez alone', livezAlone],
            ['GET /livez during logins', livezDuring],
          ] as const
        ).map(([name, r]) => [name, r.requestsPerSecond, r.p50Ms, r.p95Ms, r.p99Ms, r.non2xx, r.errors]),
      ]),
    );
    console.log(
      `\nlogins/s: ${loginLoad.requestsPerSecond}, p95 ${loginLoad.p95Ms} ms; ` +
        `/livez p99 ${livezAlone.p99Ms} ms alone → ${livezDuring.p99Ms} ms during logins ` +
        `(×${round(livezDuring.p99Ms / livezAlone.p99Ms, 2)})`,
    );
    console.log(
      `server event-loop delay p99 ${loopAlone.p99Ms} ms (max ${loopAlone.maxMs}) alone → ` +
        `${loopDuring.p99Ms} ms (max ${loopDuring.maxMs}) during logins ` +
        '(argon2 hashes on worker threads, off the event loop)',
    );
    const file = await writeResult('login', {
      settings: {
        argon2,
        accounts: ACCOUNTS,
        connections: LOGIN_CONNECTIONS,
        durationSeconds: DURATION_S,
        probeRate: PROBE_RATE,
        database: db.server,
      },
      note: 'server and load generator are separate processes on the same machine',
      results: { login: loginLoad, livezAlone, livezDuringLogins: livezDuring },
      eventLoopDelay: { alone: loopAlone, duringLogins: loopDuring },
    });
    console.log(`written to ${file}`);
  } finally {
    await stopAll();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
