/**
 * What the drills, the soak and the capacity search share: the cluster of `npm run cluster` (used
 * when it answers, else started here and stopped at the end), its control channel, a set of users
 * with friendships, posts and chat pairs, a chat client that reconnects and resumes as the web app
 * does, the day-in-the-life mix (the same shares as `npm run slo`), a per-arrival timeline, and the
 * chat and post verifiers. Traffic goes to 127.0.0.1 only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { expectStatus, type HttpAnswer, httpsClient } from '../load-driver.ts';
import { type ChatCopy, verifyChat } from './verify.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DIR = resolve(process.env.CLUSTER_DIR ?? join(ROOT, 'data/cluster'));
export const PORT = Number(process.env.CLUSTER_PORT ?? 8443);
export const ORIGIN = `https://127.0.0.1:${PORT}`;
export const say = (line: string) => process.stdout.write(`${line}\n`);
export const load = () => loadavg().map((l) => Number(l.toFixed(2))) as [number, number, number];
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ClusterHandle {
  ca: Buffer;
  metricsToken: string | undefined;
  /** PgBouncer reaches the primary through the delayable relay (`npm run cluster -- --db-link`). */
  dbLink: boolean;
  state: () => ClusterState;
  control: (body: Record<string, string>) => Promise<Record<string, number>>;
  stop: () => Promise<void>;
}

async function answers(ca: Buffer): Promise<boolean> {
  const client = httpsClient(ORIGIN, ca, 1);
  try {
    return (
      (await client.call('GET', '/livez', undefined, undefined, AbortSignal.timeout(5_000))).status === 200
    );
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** What scripts/cluster.ts writes to cluster.json (the parts the benches read). */
export interface ClusterState {
  urls: Record<string, string>;
  /** Absent in a cluster started before the field existed. */
  rateLimits?: 'load' | 'production' | 'custom';
  dbLink?: boolean;
  metricsToken?: string;
}

/**
 * The running cluster (it must have the control channel and the load-test rate limits), or one
 * started here with `--load` (and `--db-link` when `dbLink`), stopped by `stop()`.
 */
export async function ensureCluster(options: { dbLink?: boolean } = {}): Promise<ClusterHandle> {
  const caFile = join(DIR, 'certs/ca.crt');
  let child: ChildProcess | undefined;
  let metricsToken = process.env.CLUSTER_METRICS_TOKEN;
  const state = () => JSON.parse(readFileSync(join(DIR, 'cluster.json'), 'utf8')) as ClusterState;
  if (existsSync(caFile) && (await answers(await readFile(caFile)))) {
    say(`cluster        ${ORIGIN} (already running)`);
    const limits = existsSync(join(DIR, 'cluster.json')) ? state().rateLimits : undefined;
    // every bench user signs up and logs in from 127.0.0.1: production's per-IP limits answer 429 at once
    if (limits === 'production')
      throw new Error(
        `the cluster on ${ORIGIN} runs with production rate limits (sign-ups and logins per IP), so this bench would stop at once with "signup: 429". ` +
          'Restart it with `npm run cluster -- --load` (the load-test limits), or stop it (`npm run cluster -- --down`) and let the bench start its own.',
      );
    if (limits !== 'load')
      say(
        `cluster        warning: its rate limits are ${limits ?? 'not recorded (started by an older npm run cluster)'}; a 429 on signup or login means \`npm run cluster -- --load\` is needed`,
      );
  } else {
    say(`cluster        not answering on ${ORIGIN}: starting one (npm run cluster -- --load) …`);
    const args = ['--load', ...(options.dbLink ? ['--db-link'] : [])];
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/cluster.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, CLUSTER_DIR: DIR, CLUSTER_PORT: String(PORT) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = child;
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error('the cluster did not come up within 8 minutes')),
        480_000,
      );
      let buffered = '';
      started.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          say(`  cluster │ ${line}`);
          const token = /metrics token: (\S+)/.exec(line)?.[1];
          if (token) metricsToken = token;
          if (line.includes('Kith cluster is up')) {
            clearTimeout(timer);
            ok();
          }
        }
      });
      started.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`  cluster │ ${chunk}`));
      started.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`the cluster exited (${code}) before it was up`));
      });
    });
  }
  if (!state().urls.control) throw new Error('this cluster has no control channel: restart npm run cluster');
  return {
    ca: await readFile(caFile),
    metricsToken: metricsToken ?? state().metricsToken,
    dbLink: state().dbLink === true,
    state,
    async control(body) {
      const res = await fetch(state().urls.control!, {
        method: 'POST',
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(180_000),
      });
      const out = (await res.json()) as Record<string, number> & { error?: string };
      if (res.status !== 200) throw new Error(`control ${JSON.stringify(body)}: ${out.error}`);
      return out;
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      await Promise.race([exited, sleep(150_000)]);
    },
  };
}

// ---- users, posts, chat pairs ------------------------------------------------------------------

export interface User {
  id: string;
  username: string;
  password: string;
  token: string;
}
export type Client = ReturnType<typeof httpsClient>;

export async function inBatches<T>(
  count: number,
  size: number,
  make: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size)
    out.push(
      ...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j)))),
    );
  return out;
}

async function signUp(client: Client, run: string, i: number): Promise<User> {
  const username = `ld_${run}_${i}`;
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

/** The server refused a chat send (`error` for its clientMessageId); retryable ones are sent again. */
export class ChatRefusal extends Error {
  constructor(
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(`chat error ${code}${retryable ? ' (retryable)' : ''}`);
  }
}

/**
 * One chat member's socket, as the web app keeps it: reconnects (a new ticket, through nginx, so
 * to whichever instance answers) after any close, sends `resume` with the last seq it holds per
 * conversation, and sends again every message not yet acknowledged with the same clientMessageId.
 * It records every `message.new` it gets, by conversation and seq (its copy, for the verifier).
 */
export class ChatMember {
  ws: WebSocket | undefined;
  readonly copy: ChatCopy = new Map();
  readonly positions = new Map<string, number>();
  readonly outbox = new Map<string, string>();
  readonly waiting = new Map<string, { ok: () => void; fail: (e: Error) => void }>();
  reconnects = 0;
  readonly closeCodes: Record<string, number> = {};
  private closed = false;
  private connecting: Promise<void> | undefined;

  constructor(
    readonly user: User,
    private readonly client: Client,
    private readonly ca: Buffer,
    private readonly acked: Set<string>,
  ) {}

  connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const { ticket } = JSON.parse(
          expectStatus(
            await this.client.call(
              'POST',
              '/api/v1/realtime/ticket',
              this.user.token,
              undefined,
              AbortSignal.timeout(5_000),
            ),
            200,
            'ticket',
          ).body,
        ) as { ticket: string };
        const ws = new WebSocket(
          `wss://127.0.0.1:${PORT}/api/v1/realtime?ticket=${encodeURIComponent(ticket)}`,
          { ca: this.ca, perMessageDeflate: false, ...({ servername: 'localhost' } as object) },
        );
        await new Promise<void>((ok, fail) => {
          const timer = setTimeout(() => fail(new Error('no hello within 10 s')), 10_000);
          ws.once('open', () => {
            ws.send(JSON.stringify({ type: 'resume', conversations: Object.fromEntries(this.positions) }));
          });
          ws.on('message', (data: Buffer) => {
            const event = JSON.parse(data.toString()) as { type: string };
            if (event.type === 'hello') {
              clearTimeout(timer);
              ok();
            }
            this.onEvent(event);
          });
          ws.once('error', (err) => {
            clearTimeout(timer);
            fail(err);
          });
          ws.once('close', (code) => {
            clearTimeout(timer);
            fail(new Error(`closed ${code} before hello`));
          });
        });
        this.ws = ws;
        ws.removeAllListeners('error');
        ws.on('error', () => {});
        ws.removeAllListeners('close');
        ws.once('close', (code) => {
          this.closeCodes[code] = (this.closeCodes[code] ?? 0) + 1;
          this.ws = undefined;
          if (!this.closed) {
            this.reconnects++;
            void this.connect();
          }
        });
        for (const frame of this.outbox.values()) ws.send(frame);
        return;
      } catch {
        await sleep(Math.min(2_000, 200 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  private onEvent(event: {
    type: string;
    clientMessageId?: string;
    code?: string;
    retryable?: boolean;
    retryAfterMs?: number;
    message?: { conversationId: string; seq: number; clientMessageId: string };
  }) {
    if (event.type === 'message.new' && event.message) {
      const { conversationId, seq } = event.message;
      const seqs = this.copy.get(conversationId) ?? [];
      seqs.push(seq);
      this.copy.set(conversationId, seqs);
      this.positions.set(conversationId, Math.max(seq, this.positions.get(conversationId) ?? 0));
    } else if (event.type === 'message.ack' && event.clientMessageId) {
      this.acked.add(event.clientMessageId);
      this.outbox.delete(event.clientMessageId);
      this.waiting.get(event.clientMessageId)?.ok();
      this.waiting.delete(event.clientMessageId);
    } else if (event.type === 'error' && event.clientMessageId) {
      const id = event.clientMessageId;
      this.waiting.get(id)?.fail(new ChatRefusal(event.code ?? 'UNKNOWN', event.retryable === true));
      this.waiting.delete(id);
      if (event.retryable) {
        // as the app does: the same frame again after retryAfterMs (stored once: same clientMessageId)
        setTimeout(() => {
          const frame = this.outbox.get(id);
          if (frame && !this.closed && this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
        }, event.retryAfterMs ?? 1000).unref();
      } else this.outbox.delete(id);
    }
  }

  /** Resolves on the message's ack (sent now, or when the socket is back). */
  send(conversationId: string, clientMessageId: string, body: string, signal: AbortSignal): Promise<void> {
    const frame = JSON.stringify({ type: 'message.send', conversationId, clientMessageId, body });
    this.outbox.set(clientMessageId, frame);
    return new Promise<void>((ok, fail) => {
      this.waiting.set(clientMessageId, { ok, fail });
      signal.addEventListener(
        'abort',
        () => {
          this.waiting.delete(clientMessageId);
          fail(new Error('chat: no ack in time'));
        },
        { once: true },
      );
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
    });
  }

  close() {
    this.closed = true;
    this.ws?.terminate();
  }
}

export interface Pair {
  conversationId: string;
  a: ChatMember;
  b: ChatMember;
}

export interface World {
  client: Client;
  users: User[];
  posts: string[];
  pairs: Pair[];
  /** clientMessageIds the server acknowledged (the verifier's "must be there exactly once"). */
  acked: Set<string>;
  /** posts answered 201, with their author's token (the verifier's "must be there"). */
  createdPosts: { id: string; token: string }[];
  close: () => void;
}

export async function makeWorld(ca: Buffer, users = 40, chatPairs = 10): Promise<World> {
  const client = httpsClient(ORIGIN, ca);
  const run = randomBytes(3).toString('hex');
  const list = await inBatches(users, 4, (i) => signUp(client, run, i));
  await inBatches(users * 2, 8, async (k) => {
    const [a, b] = [list[k % users]!, list[(k % users) + 1 + Math.floor(k / users)]];
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
  const posts = await inBatches(users, 8, async (i) => {
    const res = await client.call('POST', '/api/v1/posts', list[i % users]!.token, {
      text: `seed post ${i}`,
      visibility: 'public',
    });
    return (JSON.parse(expectStatus(res, 201, 'post').body) as { id: string }).id;
  });
  const acked = new Set<string>();
  const pairs = await inBatches(chatPairs, 5, async (i) => {
    const [a, b] = [list[2 * i]!, list[2 * i + 1]!];
    const res = await client.call('POST', '/api/v1/conversations', a.token, { usernames: [b.username] });
    if (res.status !== 201 && res.status !== 200) throw new Error(`conversation: ${res.status} ${res.body}`);
    const { id } = JSON.parse(res.body) as { id: string };
    const pair = {
      conversationId: id,
      a: new ChatMember(a, client, ca, acked),
      b: new ChatMember(b, client, ca, acked),
    };
    // a member knows its conversations from the start (as the app's conversation list does): a
    // resume must name every one, even one with nothing received yet (seq 0), or a reconnect
    // after a message was sent but before it arrived starts from the server's baseline and skips it
    pair.a.positions.set(id, 0);
    pair.b.positions.set(id, 0);
    await Promise.all([pair.a.connect(), pair.b.connect()]);
    return pair;
  });
  return {
    client,
    users: list,
    posts,
    pairs,
    acked,
    createdPosts: [],
    close() {
      for (const p of pairs) {
        p.a.close();
        p.b.close();
      }
      client.close();
    },
  };
}

// ---- the mix and its timeline -------------------------------------------------------------------

/** One arrival: when it was due (ms since the run began), how long it took, and how it ended. */
export interface Outcome {
  at: number;
  ms: number;
  ok: boolean;
  kind: string;
  error?: string;
  status?: number;
  /** The error body's code (HTTP) or the realtime error's code (chat). */
  code?: string;
  /** A refusal that says when to come back: HTTP Retry-After, or a retryable realtime error. */
  retryAfter?: boolean;
}

export class HttpFailure extends Error {
  constructor(
    readonly answer: HttpAnswer,
    what: string,
  ) {
    super(`${what}: ${answer.status} ${answer.body.slice(0, 80)}`);
  }
}

/** The day-in-the-life mix of `npm run slo`, each arrival recorded in `timeline`. */
export function mix(world: World, timeline: Outcome[], t0: () => number) {
  const { client, users, posts, pairs } = world;
  const user = (i: number) => users[(i * 7) % users.length]!;
  let sent = 0;
  const run = randomBytes(3).toString('hex');
  const call = async (what: string, expected: number, p: Promise<HttpAnswer>) => {
    const answer = await p;
    if (answer.status !== expected) throw new HttpFailure(answer, what);
    return answer;
  };
  const actions: Record<string, (i: number, signal: AbortSignal) => Promise<unknown>> = {
    feed: (i, s) => call('feed', 200, client.call('GET', '/api/v1/feed', user(i).token, undefined, s)),
    react: (i, s) =>
      call(
        'react',
        204,
        client.call(
          'PUT',
          `/api/v1/posts/${posts[i % posts.length]}/reactions/like`,
          user(i).token,
          undefined,
          s,
        ),
      ),
    comment: (i, s) =>
      call(
        'comment',
        201,
        client.call(
          'POST',
          `/api/v1/posts/${posts[i % posts.length]}/comments`,
          user(i).token,
          { text: `c ${i}` },
          s,
        ),
      ),
    post: async (i, s) => {
      const answer = await call(
        'post',
        201,
        client.call(
          'POST',
          '/api/v1/posts',
          user(i).token,
          { text: `drill post ${i}`, visibility: 'friends' },
          s,
        ),
      );
      world.createdPosts.push({ id: (JSON.parse(answer.body) as { id: string }).id, token: user(i).token });
    },
    chat: (i, s) => {
      const pair = pairs[i % pairs.length]!;
      const sender = Math.floor(i / pairs.length) % 2 === 0 ? pair.a : pair.b;
      return sender.send(pair.conversationId, `ld-${run}-${sent++}`, `message ${i}`, s);
    },
    login: (i, s) =>
      call(
        'login',
        200,
        client.call(
          'POST',
          '/api/v1/auth/login',
          undefined,
          { login: user(i).username, password: user(i).password },
          s,
        ),
      ),
  };
  const spread = (i: number) => (i * 0.6180339887498949) % 1;
  const pick = (i: number) => {
    const r = spread(i);
    if (r < 0.55) return 'feed';
    if (r < 0.65) return 'react';
    if (r < 0.7) return 'comment';
    if (r < 0.75) return 'post';
    if (r < 0.95) return 'chat';
    return 'login';
  };
  return async (i: number, signal: AbortSignal) => {
    const kind = pick(i);
    const start = t0();
    try {
      await actions[kind]!(i, signal);
      timeline.push({ at: start, ms: t0() - start, ok: true, kind });
    } catch (err) {
      const failure = err instanceof HttpFailure ? err.answer : undefined;
      const chat = err instanceof ChatRefusal ? err : undefined;
      const code = failure ? /"code":"([A-Z_]+)"/.exec(failure.body)?.[1] : chat?.code;
      timeline.push({
        at: start,
        ms: t0() - start,
        ok: false,
        kind,
        error: (err as Error).message.slice(0, 100),
        ...(failure ? { status: failure.status } : {}),
        ...(code ? { code } : {}),
        ...(failure?.retryAfter || chat?.retryable ? { retryAfter: true } : {}),
      });
      throw err;
    }
  };
}

// ---- the verifiers ------------------------------------------------------------------------------

/** Fetches a conversation's whole history as `member` (REST, seq order). */
async function history(client: Client, member: ChatMember, conversationId: string) {
  const out: { seq: number; clientMessageId: string }[] = [];
  for (let after = 0; ; ) {
    const res = await client.call(
      'GET',
      `/api/v1/conversations/${conversationId}/messages?after=${after}&limit=100`,
      member.user.token,
      undefined,
      AbortSignal.timeout(15_000),
    );
    const page = JSON.parse(expectStatus(res, 200, 'history').body) as {
      items: { seq: number; clientMessageId: string }[];
      hasMore: boolean;
    };
    out.push(...page.items);
    if (!page.hasMore || page.items.length === 0) return out;
    after = page.items[page.items.length - 1]!.seq;
  }
}

/**
 * Chat: waits (up to `settleMs`) until unacknowledged sends are resolved and every member's socket
 * holds what the server stored, then checks every acknowledged message is stored exactly once and
 * every member's copy has every seq exactly once. Posts: every post answered 201 can be read.
 */
export async function verify(world: World, settleMs = 30_000) {
  const deadline = Date.now() + settleMs;
  let chat = {
    lost: 0,
    duplicated: 0,
    gaps: 0,
    acked: world.acked.size,
    stored: 0,
    problems: [] as string[],
  };
  for (;;) {
    const histories = new Map<string, { seq: number; clientMessageId: string }[]>();
    for (const pair of world.pairs)
      histories.set(pair.conversationId, await history(world.client, pair.a, pair.conversationId));
    const copies = world.pairs.flatMap((p) => [
      {
        member: p.a.user.username,
        conversationId: p.conversationId,
        seqs: p.a.copy.get(p.conversationId) ?? [],
      },
      {
        member: p.b.user.username,
        conversationId: p.conversationId,
        seqs: p.b.copy.get(p.conversationId) ?? [],
      },
    ]);
    chat = { ...verifyChat(histories, world.acked, copies), acked: world.acked.size };
    const outboxes = world.pairs.reduce((n, p) => n + p.a.outbox.size + p.b.outbox.size, 0);
    if ((chat.lost === 0 && chat.gaps === 0 && outboxes === 0) || Date.now() > deadline) break;
    await sleep(1_000);
  }
  let postsLost = 0;
  for (const { id, token } of world.createdPosts) {
    const res = await world.client
      .call('GET', `/api/v1/posts/${id}`, token, undefined, AbortSignal.timeout(15_000))
      .catch(() => ({ status: 0, body: '' }));
    if (res.status !== 200) postsLost++;
  }
  return { chat, posts: { created: world.createdPosts.length, lost: postsLost } };
}

/** The newest bench/results/<prefix>-*.json. */
export function latestResult(prefix: string): string | undefined {
  const dir = join(ROOT, 'bench/results');
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.json'))
    .sort();
  return files.length ? join(dir, files[files.length - 1]!) : undefined;
}
