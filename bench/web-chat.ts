/**
 * Chat as a person sees it: the time from pressing Enter in tab A to the message being painted in
 * tab B (two Chromium browser contexts, two users, one direct conversation), p50/p99 over
 * WEB_CHAT_MESSAGES (200) messages sent one after another, next to the server's own send →
 * delivery measured in the same run on the same Kith (a Node WebSocket client sends `message.send`,
 * another receives `message.new`, same count) — the difference is the client's share: the shared
 * socket in the leader tab, React rendering, and the frame. Also: which of this work's modules
 * reach the feed route's initial JavaScript (only the small lazy mount should), with its size.
 *
 *   npm run bench:web-chat                (TEST_DATABASE_URL=… to use the machine's Postgres)
 *   WEB_CHAT_MESSAGES=50 npm run bench:web-chat
 *
 * The send time is the Enter keydown's event timestamp in A, the paint time the first animation
 * frame after B's DOM holds the message; both on the machine's clock (performance.timeOrigin + now).
 */
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { createBenchDatabase } from './lib/database.ts';
import { freePort, productionEnv, SERVER_MAIN, startNode, stopAll } from './lib/processes.ts';
import { percentile, REPO_DIR, round, table, writeResult } from './lib/report.ts';

const MESSAGES = Number(process.env.WEB_CHAT_MESSAGES ?? 200);
const CHROMIUM = '/usr/bin/chromium';
const WEB_DIR = join(REPO_DIR, 'apps/web');

interface User {
  id: string;
  username: string;
  password: string;
  token: string;
}

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is needed (apt-get install chromium)`);
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: WEB_DIR, stdio: 'inherit' });
  const initial = await initialRouteModules();

  const database = await createBenchDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'kith-bench-chat-'));
  const port = await freePort();
  const prod = productionEnv(database.url, port, dataDir);
  const kith = await startNode({
    what: 'kith',
    script: SERVER_MAIN,
    port,
    readyPath: '/readyz',
    logFile: join(dataDir, 'kith.log'),
    env: {
      // the test shape (plain http on localhost, the built web app served), a fixed key, no limits in the way
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      JWT_SIGNING_KEY: prod.JWT_SIGNING_KEY!,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_SIGNUP_IP: '1000',
      RATE_LIMIT_LOGIN_IP: '1000',
      RATE_LIMIT_DEFAULT_PER_MINUTE: '100000',
      RATE_LIMIT_UNVERIFIED_PER_HOUR: '0', // fresh sign-ups, never verified
      REALTIME_MAX_MESSAGES_PER_10S: '100000',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      MAX_EVENT_LOOP_UTILIZATION: '0',
    },
  });
  const base = `http://localhost:${port}`;
  const api = async (user: User | undefined, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        ...(user ? { authorization: `Bearer ${user.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const signUp = async (label: string): Promise<User> => {
    const username = `${label}${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const body = await api(undefined, 'POST', '/auth/signup', {
      username,
      email: `${username}@example.com`,
      password,
    });
    return { id: body.user.id, username, password, token: body.accessToken };
  };
  const pair = async (a: User, b: User) => {
    await api(a, 'POST', '/friend-requests', { username: b.username });
    await api(b, 'POST', '/friend-requests', { username: a.username });
    return (await api(a, 'POST', '/conversations', { usernames: [b.username] })).id as string;
  };

  try {
    // ---- the server's own send → delivery (baseline) ------------------------------------------
    const [c, d] = [await signUp('c'), await signUp('d')];
    const cd = await pair(c, d);
    const server = await serverLatencies(base, c, d, cd, api);

    // ---- browser tab A → paint in tab B --------------------------------------------------------
    const [a, b] = [await signUp('a'), await signUp('b')];
    const ab = await pair(a, b);
    const browserFigures = await browserLatencies(base, a, b, ab);

    const load = loadavg().map((n) => round(n, 2));
    const rows = [
      ['measure (ms)', 'p50', 'p99', 'n'],
      [
        'tab A Enter → painted in tab B',
        round(percentile(browserFigures, 50), 1),
        round(percentile(browserFigures, 99), 1),
        browserFigures.length,
      ],
      [
        'server: ws send → message.new (baseline)',
        round(percentile(server, 50), 1),
        round(percentile(server, 99), 1),
        server.length,
      ],
    ];
    console.log(table(rows));
    console.log(`load average ${load.join(' ')}`);
    console.log(
      `initial route (feed): ${initial.files.length} chunks; this work's modules in them: ${
        initial.ours.join(', ') || 'none'
      }; lazy mount ≈ ${initial.mountGzipBytes} B gzip, chat strings ≈ ${initial.stringsGzipBytes} B gzip`,
    );
    const realtimeResult = await latestResult('realtime');
    if (realtimeResult) console.log(`last bench:realtime send→delivery (cross-instance): ${realtimeResult}`);
    const file = await writeResult('web-chat', {
      messages: MESSAGES,
      browser: {
        p50Ms: round(percentile(browserFigures, 50), 2),
        p99Ms: round(percentile(browserFigures, 99), 2),
      },
      serverBaseline: { p50Ms: round(percentile(server, 50), 2), p99Ms: round(percentile(server, 99), 2) },
      loadAverage: load,
      initialRoute: initial,
    });
    console.log(`wrote ${file}`);
  } finally {
    await kith.stop();
    await stopAll();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the API, read field by field
type Json = any;
type Api = (user: User | undefined, method: string, path: string, body?: unknown) => Promise<Json>;

async function openSocket(base: string, user: User, api: Api): Promise<WebSocket> {
  const { ticket } = await api(user, 'POST', '/realtime/ticket');
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/realtime?ticket=${ticket}`, 'kith.v1');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'resume', conversations: {} }));
  return ws;
}

/** Node client C sends, D receives: ms from writing the frame to reading `message.new`. */
async function serverLatencies(base: string, c: User, d: User, conversationId: string, api: Api) {
  const [sc, sd] = [await openSocket(base, c, api), await openSocket(base, d, api)];
  const sent = new Map<string, number>();
  const out: number[] = [];
  let wake: (() => void) | undefined;
  sd.on('message', (data) => {
    const event = JSON.parse(String(data));
    if (event.type !== 'message.new') return;
    const at = sent.get(event.message.clientMessageId);
    if (at !== undefined) out.push(performance.now() - at);
    wake?.();
  });
  for (let i = 0; i < MESSAGES; i++) {
    const id = `bench-${i}-${randomBytes(4).toString('hex')}`;
    const got = new Promise<void>((resolve) => {
      wake = resolve;
    });
    sent.set(id, performance.now());
    sc.send(
      JSON.stringify({ type: 'message.send', conversationId, clientMessageId: id, body: `server ${i}` }),
    );
    await got;
  }
  sc.close();
  sd.close();
  return out;
}

async function browserLatencies(base: string, a: User, b: User, conversationId: string) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const pages = [];
    for (const user of [a, b]) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      await page.goto(`${base}/login`);
      await page.fill('input[name="login"]', user.username);
      await page.fill('input[name="password"]', user.password);
      await page.press('input[name="password"]', 'Enter');
      await page.waitForFunction(() => location.pathname === '/');
      await page.goto(`${base}/chat/${conversationId}`);
      await page.waitForSelector('.connection-status[data-state="live"]');
      pages.push(page);
    }
    const [pa, pb] = pages as [(typeof pages)[0], (typeof pages)[0]];
    // A: when Enter went down (the send starts there); B: the first frame after the message is in the DOM
    await pa.evaluate(() => {
      const w = window as unknown as { __sent: Record<string, number> };
      w.__sent = {};
      document.addEventListener(
        'keydown',
        (e) => {
          const input = e.target as HTMLTextAreaElement;
          if (e.key === 'Enter' && input.classList?.contains('chat-input')) {
            w.__sent[input.value] = performance.timeOrigin + e.timeStamp;
          }
        },
        true,
      );
    });
    await pb.evaluate(() => {
      const w = window as unknown as { __painted: Record<string, number> };
      w.__painted = {};
      const seen = new Set<Element>();
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('.messages li[data-seq] .message-body')) {
          if (seen.has(el)) continue;
          seen.add(el);
          const text = el.textContent ?? '';
          requestAnimationFrame(() => {
            w.__painted[text] = performance.timeOrigin + performance.now();
          });
        }
      }).observe(document.body, { childList: true, subtree: true });
    });
    for (let i = 0; i < MESSAGES; i++) {
      const text = `browser ${i}`;
      await pa.fill('.chat-input', text);
      await pa.press('.chat-input', 'Enter');
      await pb.waitForFunction((t) => t in (window as unknown as { __painted: object }).__painted, text);
    }
    const sent = await pa.evaluate(() => (window as unknown as { __sent: Record<string, number> }).__sent);
    const painted = await pb.evaluate(
      () => (window as unknown as { __painted: Record<string, number> }).__painted,
    );
    return Object.keys(sent)
      .filter((k) => painted[k] !== undefined)
      .map((k) => painted[k]! - sent[k]!);
  } finally {
    await browser.close();
  }
}

/**
 * The feed route's initial chunks (entry, its static imports, the home chunk and its imports) and
 * which sources of this work are in them (from the source maps); the lazy mount's and the chat
 * strings' gzip size.
 */
async function initialRouteModules() {
  const dist = join(WEB_DIR, 'dist');
  const manifest = JSON.parse(await readFile(join(dist, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    { file: string; isEntry?: boolean; imports?: string[] }
  >;
  const files = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const dep of chunk.imports ?? []) visit(dep);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  visit('src/routes/home/home.lazy.tsx');
  const ours = new Set<string>();
  for (const file of files) {
    const map = join(dist, `${file}.map`);
    if (!existsSync(map)) continue;
    const { sources } = JSON.parse(await readFile(map, 'utf8')) as { sources: string[] };
    for (const s of sources) {
      const m = /src\/(realtime\/[^/]+|routes\/chat\/[^/]+)$/.exec(s);
      if (m) ours.add(m[1]!);
    }
  }
  const { transformSync } = await import('esbuild');
  const mount = transformSync(await readFile(join(WEB_DIR, 'src/realtime/lazy.tsx'), 'utf8'), {
    loader: 'tsx',
    jsx: 'automatic',
    minify: true,
  }).code;
  const en = JSON.parse(await readFile(join(WEB_DIR, 'src/i18n/en.json'), 'utf8')) as { chat?: unknown };
  return {
    files: [...files],
    ours: [...ours].sort(),
    mountGzipBytes: gzipSync(mount, { level: 9 }).length,
    stringsGzipBytes: gzipSync(JSON.stringify(en.chat ?? {}), { level: 9 }).length,
  };
}

/** The newest bench:realtime result's send→delivery line, if one was written on this machine. */
async function latestResult(name: string): Promise<string | undefined> {
  const { readdir } = await import('node:fs/promises');
  const dir = join(REPO_DIR, 'bench/results');
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.startsWith(`${name}-`)).sort();
  const last = files.at(-1);
  if (!last) return undefined;
  const body = JSON.parse(await readFile(join(dir, last), 'utf8'));
  const run = body.latency?.runs?.[0]?.kith;
  return run ? `p50 ${run.p50Ms} ms / p99 ${run.p99Ms} ms at ${run.rate}/s (${last})` : undefined;
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
