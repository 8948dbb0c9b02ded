/**
 * `npm run slo` — open-loop load scenarios against the scaled shape, each checked against its
 * objective in docs/slo.md ("Load scenarios"): login, feed read, post, comment + react, chat send
 * with two-way delivery, and a day-in-the-life mix. Prints p50/p95/p99 and the error rate of each
 * next to its targets and the machine's load average; exits 1 when a target is missed (a release
 * gate, not part of `npm test`), 2 when the run itself could not be made.
 *
 * Uses the cluster of `npm run cluster` when it answers on https://127.0.0.1:CLUSTER_PORT (default
 * 8443; CA from CLUSTER_DIR/certs); otherwise starts one (with the per-IP limits raised: all of
 * this load comes from 127.0.0.1) and stops it at the end. Traffic goes to 127.0.0.1 only, bounded:
 * SLO_DURATION_S (default 10) seconds per scenario at its rate × SLO_RATE_SCALE (default 1), each
 * request given up after 10 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  type ClusterHandle,
  DIR,
  ensureCluster,
  inBatches,
  ORIGIN,
  PORT,
  ROOT,
  say,
} from './lib/cluster-load.ts';
import { expectStatus, httpsClient, type OpenLoopResult, openLoop } from './load-driver.ts';

const DURATION_S = Number(process.env.SLO_DURATION_S ?? 10);
const RATE_SCALE = Number(process.env.SLO_RATE_SCALE ?? 1);
const USERS = 40;
const CHAT_PAIRS = 10;
const REQUEST_TIMEOUT_MS = 10_000;

interface Objective {
  scenario: string;
  rate: number;
  p95Ms: number;
  p99Ms: number;
  errorsPercent: number;
}

/** The "Load scenarios" table of docs/slo.md: the one place the targets are written. */
async function objectives(): Promise<Map<string, Objective>> {
  const text = await readFile(join(ROOT, 'docs/slo.md'), 'utf8');
  const rows = [
    ...text.matchAll(/^\| `([a-z-]+)` \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$/gm),
  ].map(([, scenario, rate, p95, p99, errors]) => ({
    scenario: scenario!,
    rate: Number(rate),
    p95Ms: Number(p95),
    p99Ms: Number(p99),
    errorsPercent: Number(errors),
  }));
  if (rows.length === 0) throw new Error('docs/slo.md has no "Load scenarios" table');
  return new Map(rows.map((r) => [r.scenario, r]));
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

// ---- the cluster ------------------------------------------------------------------------------

let cluster: ClusterHandle | undefined;
/** The instances' METRICS_TOKEN: printed by a cluster started here, or CLUSTER_METRICS_TOKEN. */
let metricsToken = process.env.CLUSTER_METRICS_TOKEN;

/**
 * Lag-tolerant reads per pool and reason, summed over the instances (their /metrics, listed in the
 * cluster's state file): whether the replica carried the feed reads during the run.
 */
async function readsPerPool(): Promise<Record<string, number> | undefined> {
  if (!metricsToken) return undefined;
  try {
    const state = JSON.parse(await readFile(join(DIR, 'cluster.json'), 'utf8')) as {
      urls: { metrics?: string };
    };
    const totals: Record<string, number> = {};
    for (const url of (state.urls.metrics ?? '').split(' ').filter(Boolean)) {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${metricsToken}` },
        signal: AbortSignal.timeout(5_000),
      });
      for (const [, pool, reason, value] of (await res.text()).matchAll(
        /^kith_db_reads_total\{pool="(\w+)",reason="(\w+)"\} (\S+)$/gm,
      ))
        totals[`${pool}/${reason}`] = (totals[`${pool}/${reason}`] ?? 0) + Number(value);
    }
    return totals;
  } catch {
    return undefined;
  }
}

// ---- the users and what they act on -----------------------------------------------------------

interface User {
  id: string;
  username: string;
  password: string;
  token: string;
}

type Client = ReturnType<typeof httpsClient>;

async function signUp(client: Client, run: string, i: number): Promise<User> {
  const username = `slo_${run}_${i}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const res = expectStatus(
    await client.call('POST', '/api/v1/auth/signup', undefined, {
      username,
      email: `${username}@example.com`,
      password,
    }),
    201,
    'signup',
  );
  const body = JSON.parse(res.body) as { accessToken: string; user: { id: string } };
  return { id: body.user.id, username, password, token: body.accessToken };
}

/** A socket of `user` (ticket over HTTPS, then wss through nginx), resolved once `hello` arrived. */
async function openSocket(client: Client, ca: Buffer, user: User): Promise<WebSocket> {
  const { ticket } = JSON.parse(
    expectStatus(await client.call('POST', '/api/v1/realtime/ticket', user.token), 200, 'ticket').body,
  ) as { ticket: string };
  const ws = new WebSocket(`wss://127.0.0.1:${PORT}/api/v1/realtime?ticket=${encodeURIComponent(ticket)}`, {
    ca,
    perMessageDeflate: false,
    // handed to tls.connect (ws's types leave it out): the name nginx's certificate carries
    ...({ servername: 'localhost' } as object),
  });
  await new Promise<void>((ok, fail) => {
    ws.once('message', () => ok());
    ws.once('error', fail);
    ws.once('close', (code) => fail(new Error(`socket closed (${code}) before hello`)));
  });
  return ws;
}

/**
 * Chat: pairs of members with a socket each. `send(i)` sends message i from one member of pair
 * i % pairs (alternating direction) and resolves once the sender has its `message.ack` and the other
 * member's socket has the `message.new` — exactly once (a second copy counts as an error).
 */
function chatRig(
  pairs: { a: User; b: User; conversationId: string; sa: WebSocket; sb: WebSocket }[],
  run: string,
) {
  const pending = new Map<
    string,
    { receiver: WebSocket; acked: boolean; delivered: boolean; done: () => void; fail: (e: Error) => void }
  >();
  /** Whose socket must get each message sent, and how many copies it got (more than one: duplicated). */
  const receiverOf = new Map<string, WebSocket>();
  const copies = new Map<string, number>();
  let duplicates = 0;
  const settle = (id: string) => {
    const p = pending.get(id);
    if (p?.acked && p.delivered) {
      pending.delete(id);
      p.done();
    }
  };
  for (const pair of pairs) {
    for (const socket of [pair.sa, pair.sb]) {
      socket.on('message', (data: Buffer) => {
        const event = JSON.parse(data.toString()) as {
          type: string;
          clientMessageId?: string;
          message?: { clientMessageId: string };
          code?: string;
        };
        if (event.type === 'message.ack' && event.clientMessageId) {
          const p = pending.get(event.clientMessageId);
          if (p) {
            p.acked = true;
            settle(event.clientMessageId);
          }
        } else if (event.type === 'message.new' && event.message) {
          const id = event.message.clientMessageId;
          if (receiverOf.get(id) !== socket) return; // the sender's own copy
          const n = (copies.get(id) ?? 0) + 1;
          copies.set(id, n);
          if (n > 1) duplicates++;
          const p = pending.get(id);
          if (p) {
            p.delivered = true;
            settle(id);
          }
        } else if (event.type === 'error' && event.clientMessageId) {
          pending.get(event.clientMessageId)?.fail(new Error(`chat error ${event.code}`));
          pending.delete(event.clientMessageId);
        }
      });
    }
  }
  let sent = 0;
  return {
    get duplicates() {
      return duplicates;
    },
    send(i: number, signal: AbortSignal): Promise<void> {
      const pair = pairs[i % pairs.length]!;
      const forward = Math.floor(i / pairs.length) % 2 === 0;
      const [sender, receiver] = forward ? [pair.sa, pair.sb] : [pair.sb, pair.sa];
      const clientMessageId = `slo-${run}-${sent++}`;
      receiverOf.set(clientMessageId, receiver);
      return new Promise<void>((done, fail) => {
        pending.set(clientMessageId, { receiver, acked: false, delivered: false, done, fail });
        signal.addEventListener('abort', () => pending.delete(clientMessageId), { once: true });
        sender.send(
          JSON.stringify({
            type: 'message.send',
            conversationId: pair.conversationId,
            clientMessageId,
            body: `open-loop message ${i}`,
          }),
        );
      });
    },
  };
}

// ---- the run ----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const targets = await objectives();
  say(
    `npm run slo — ${cpus().length} cores, load average ${load()}; ${DURATION_S} s per scenario, rates × ${RATE_SCALE}`,
  );
  cluster = await ensureCluster();
  metricsToken ??= cluster.metricsToken;
  const { ca } = cluster;
  const client = httpsClient(ORIGIN, ca);
  const sockets: WebSocket[] = [];
  try {
    const run = randomBytes(3).toString('hex');
    const started = performance.now();
    const users = await inBatches(USERS, 4, (i) => signUp(client, run, i));
    // a ring of friendships (each user with the next two): feeds get friends' posts by fan-out,
    // and chat pairs (2i, 2i + 1) are friends
    await inBatches(USERS * 2, 8, async (k) => {
      const [a, b] = [users[k % USERS]!, users[(k % USERS) + 1 + Math.floor(k / USERS)]];
      if (!b) return;
      const sent = expectStatus(
        await client.call('POST', '/api/v1/friend-requests', a.token, { username: b.username }),
        201,
        'friend request',
      );
      const { request } = JSON.parse(sent.body) as { request: { id: string } };
      expectStatus(
        await client.call('POST', `/api/v1/friend-requests/${request.id}/accept`, b.token),
        204,
        'accept',
      );
    });
    const posts = (
      await inBatches(USERS * 2, 8, async (i) => {
        const res = await client.call('POST', '/api/v1/posts', users[i % USERS]!.token, {
          text: `seed post ${i} #slo`,
          visibility: 'public',
        });
        return (JSON.parse(expectStatus(res, 201, 'post').body) as { id: string }).id;
      })
    ).filter(Boolean);
    const pairs = await inBatches(CHAT_PAIRS, 5, async (i) => {
      const [a, b] = [users[2 * i]!, users[2 * i + 1]!];
      const res = await client.call('POST', '/api/v1/conversations', a.token, { usernames: [b.username] });
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`conversation: ${res.status} ${res.body}`);
      const { id } = JSON.parse(res.body) as { id: string };
      const [sa, sb] = [await openSocket(client, ca, a), await openSocket(client, ca, b)];
      sockets.push(sa, sb);
      return { a, b, conversationId: id, sa, sb };
    });
    const chat = chatRig(pairs, run);
    say(
      `setup          ${USERS} users, ${posts.length} posts, ${CHAT_PAIRS} chat pairs (2 sockets each) in ${((performance.now() - started) / 1000).toFixed(1)} s; load average ${load()}`,
    );

    const expect = async (p: Promise<{ status: number; body: string }>, status: number, what: string) => {
      expectStatus(await p, status, what);
    };
    const user = (i: number) => users[(i * 7) % USERS]!;
    const actions = {
      login: (i: number, signal: AbortSignal) =>
        expect(
          client.call(
            'POST',
            '/api/v1/auth/login',
            undefined,
            { login: user(i).username, password: user(i).password },
            signal,
          ),
          200,
          'login',
        ),
      feed: (i: number, signal: AbortSignal) =>
        expect(client.call('GET', '/api/v1/feed', user(i).token, undefined, signal), 200, 'feed'),
      post: (i: number, signal: AbortSignal) =>
        expect(
          client.call(
            'POST',
            '/api/v1/posts',
            user(i).token,
            { text: `open-loop post ${i}`, visibility: 'friends' },
            signal,
          ),
          201,
          'post',
        ),
      comment: (i: number, signal: AbortSignal) =>
        expect(
          client.call(
            'POST',
            `/api/v1/posts/${posts[i % posts.length]}/comments`,
            user(i).token,
            { text: `comment ${i}` },
            signal,
          ),
          201,
          'comment',
        ),
      react: (i: number, signal: AbortSignal) =>
        expect(
          client.call(
            'PUT',
            `/api/v1/posts/${posts[i % posts.length]}/reactions/like`,
            user(i).token,
            undefined,
            signal,
          ),
          204,
          'react',
        ),
      chat: (i: number, signal: AbortSignal) => chat.send(i, signal),
    };
    /** A fixed, well-spread sequence in [0, 1) (golden ratio): the mix is the same on every run. */
    const spread = (i: number) => (i * 0.6180339887498949) % 1;
    const scenarios: Record<string, (i: number, signal: AbortSignal) => Promise<void>> = {
      login: actions.login,
      feed: actions.feed,
      post: actions.post,
      'comment-react': (i, signal) => (i % 2 === 0 ? actions.comment(i, signal) : actions.react(i, signal)),
      chat: actions.chat,
      mix: (i, signal) => {
        const r = spread(i);
        if (r < 0.55) return actions.feed(i, signal);
        if (r < 0.65) return actions.react(i, signal);
        if (r < 0.7) return actions.comment(i, signal);
        if (r < 0.75) return actions.post(i, signal);
        if (r < 0.95) return actions.chat(i, signal);
        return actions.login(i, signal);
      },
    };

    const results: (OpenLoopResult & { objective: Objective; pass: boolean; baseline: OpenLoopResult })[] =
      [];
    const readsBefore = await readsPerPool();
    for (const [name, work] of Object.entries(scenarios)) {
      const objective = targets.get(name);
      if (!objective) throw new Error(`docs/slo.md has no target for the scenario ${name}`);
      // the bare baseline, just before: GET /livez at the same rate through the same nginx, TLS
      // and instances (no database, no auth): what the machine and the edge cost at that moment
      const baseline = await openLoop({
        name: `${name} baseline`,
        ratePerSecond: objective.rate * RATE_SCALE,
        durationSeconds: Math.max(2, DURATION_S / 2),
        timeoutMs: REQUEST_TIMEOUT_MS,
        work: (_i, signal) =>
          expect(client.call('GET', '/livez', undefined, undefined, signal), 200, 'livez'),
      });
      const result = await openLoop({
        name,
        ratePerSecond: objective.rate * RATE_SCALE,
        durationSeconds: DURATION_S,
        timeoutMs: REQUEST_TIMEOUT_MS,
        work,
      });
      const pass =
        result.ok > 0 &&
        result.p95Ms <= objective.p95Ms &&
        result.p99Ms <= objective.p99Ms &&
        result.errorRate * 100 <= objective.errorsPercent;
      results.push({ ...result, objective, pass, baseline });
      say(
        `${name.padEnd(14)} ${String(result.ratePerSecond).padStart(4)}/s ${String(result.arrivals).padStart(5)} arrivals  ` +
          `p50 ${result.p50Ms} ms  p95 ${result.p95Ms} ms (SLO ≤ ${objective.p95Ms})  p99 ${result.p99Ms} ms (SLO ≤ ${objective.p99Ms})  ` +
          `errors ${(result.errorRate * 100).toFixed(2)} % (SLO ≤ ${objective.errorsPercent})  ` +
          `load average ${result.loadAverage.join(' ')}  ${pass ? 'PASS' : 'MISS'}`,
      );
      say(
        `${''.padEnd(14)} baseline GET /livez at the same rate: p50 ${baseline.p50Ms} ms  p95 ${baseline.p95Ms} ms  p99 ${baseline.p99Ms} ms  errors ${(baseline.errorRate * 100).toFixed(2)} %  load average ${baseline.loadAverage.join(' ')}`,
      );
      if (result.errors > 0) say(`               errors: ${JSON.stringify(result.errorKinds)}`);
    }
    if (chat.duplicates > 0) say(`chat           ${chat.duplicates} messages delivered twice`);
    const readsAfter = await readsPerPool();
    const reads =
      readsBefore && readsAfter
        ? Object.fromEntries(Object.entries(readsAfter).map(([k, v]) => [k, v - (readsBefore[k] ?? 0)]))
        : undefined;
    say(
      reads
        ? `feed reads     by pool/reason during the run (cache misses; hits never reach a pool): ${JSON.stringify(reads)}`
        : 'feed reads     by pool: unknown (set CLUSTER_METRICS_TOKEN to the token npm run cluster printed)',
    );

    const out = join(ROOT, 'bench/results');
    await mkdir(out, { recursive: true });
    const file = join(
      out,
      `slo-${new Date().toISOString().slice(0, 10)}${process.env.BENCH_LABEL ? `-${process.env.BENCH_LABEL}` : ''}.json`,
    );
    await writeFile(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, origin: ORIGIN, durationSeconds: DURATION_S, results, reads }, null, 2)}\n`,
    );
    const missed = results.filter((r) => !r.pass).map((r) => r.name);
    say(
      missed.length === 0
        ? `every scenario within its SLO (${file})`
        : `SLO missed: ${missed.join(', ')} (${file})`,
    );
    return missed.length === 0 && chat.duplicates === 0 ? 0 : 1;
  } finally {
    for (const s of sockets) s.terminate();
    client.close();
  }
}

let exitCode = 2;
const interrupted = () => {
  say('interrupted: stopping …');
  void (cluster?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);
try {
  exitCode = await main();
} catch (err) {
  process.stderr.write(`slo: ${(err as Error).stack ?? err}\n`);
  exitCode = 2;
} finally {
  await cluster?.stop();
}
process.exit(exitCode);
