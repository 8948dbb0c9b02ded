/**
 * Offline: the PWA shell and the last feed with the network off, and the outbox — writes made
 * offline (and one whose answer was lost after the server committed it) reach the server exactly
 * once, counted in Postgres. In both engines: Chromium (Playwright, the context goes offline) and
 * Firefox ESR (Puppeteer over WebDriver BiDi, the page's network emulation), one Kith for the file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../server/test/helpers/database.ts';
import { type ServerProcess, spawnServer, stopServer } from '../../server/test/helpers/process.ts';
import {
  type E2EBrowser,
  type E2EPage,
  hasChromium,
  hasFirefox,
  launchChromium,
  launchFirefox,
} from './support/browsers.ts';

const engines = [
  { name: 'chromium', present: hasChromium, launch: launchChromium },
  { name: 'firefox', present: hasFirefox, launch: launchFirefox },
];

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;
let server: ServerProcess;
let db: pg.Client;

/**
 * The browser talks to Kith through this proxy, so a test can lose an answer after the server has
 * committed the request: the response is read in full from Kith, then the browser's connection is
 * destroyed instead of answering (what a timeout or a dropped mobile connection looks like).
 */
interface Proxy {
  url: string;
  /** Idempotency-Key of every comment POST that went through, in order. */
  commentKeys: string[];
  /** The next comment POST is committed by Kith, and its answer never reaches the browser. */
  loseNextCommentAnswer(): void;
  /** Down: every open connection is cut and every new one refused, as with no network at all. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

async function startProxy(target: URL): Promise<Proxy> {
  let loseNext = false;
  let down = false;
  const commentKeys: string[] = [];
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((req, res) => {
    const isComment = req.method === 'POST' && /\/api\/v1\/posts\/[^/]+\/comments$/.test(req.url ?? '');
    const lose = isComment && loseNext;
    if (isComment) {
      commentKeys.push(String(req.headers['idempotency-key']));
      loseNext = false;
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer: IncomingMessage) => {
        if (lose) {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  // the realtime client's WebSocket: raw bytes both ways
  proxy.on('upgrade', (req, socket, head) => {
    const up = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    const close = () => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', close);
    socket.on('error', close);
    sockets.add(up);
  });
  proxy.on('connection', (s) => {
    if (down) {
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  return {
    url: `http://localhost:${port}`,
    commentKeys,
    loseNextCommentAnswer: () => {
      loseNext = true;
    },
    setDown: (on) => {
      down = on;
      if (on) for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => resolve());
      }),
  };
}

let proxy: Proxy;

beforeAll(async () => {
  if (!engines.some((e) => e.present)) return;
  database = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'kith-e2e-offline-'));
  server = await spawnServer({
    env: {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      RATE_LIMIT_SIGNUP_IP: '1000',
      RATE_LIMIT_LOGIN_IP: '1000',
    },
  });
  proxy = await startProxy(new URL(server.url));
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
}, 120_000);
afterAll(async () => {
  await db?.end();
  await proxy?.close();
  if (server) await stopServer(server);
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface User {
  id: string;
  username: string;
  password: string;
  token: string;
}

async function api(user: User | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
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
}

async function signUp(label: string): Promise<User> {
  const username = `${label}${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const body = await api(undefined, 'POST', '/auth/signup', {
    username,
    email: `${username}@example.com`,
    password,
    displayName: label,
  });
  return { id: body.user.id, username, password, token: body.accessToken };
}

const count = async (sql: string, params: unknown[]) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params)).rows[0]!.n);

/** Navigates inside the app (no document load: works offline without the service worker's help too). */
async function navigate(page: E2EPage, path: string) {
  await page.evaluate((p) => {
    history.pushState({}, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
  await page.waitUntil((p) => location.pathname === p && document.querySelector('main h1'), path);
}

/** Waits until an element matching `selector` contains `text`. */
const hasText = (page: E2EPage, selector: string, text: string, timeout = 30_000) =>
  page.waitFor(selector, text, timeout);

/**
 * Waits until a record in the page's IndexedDB holds every string in `includes` (`key` given) or
 * the store counts `count` records. The check runs (and polls) in the page: Playwright's
 * waitForFunction takes a returned promise for a truthy answer at once, so it cannot wait on
 * IndexedDB.
 */
async function untilStored(
  page: E2EPage,
  where: { db: string; store: string; key?: string; includes?: string[]; count?: number },
  timeout = 30_000,
) {
  const found = await page.evaluate(
    ({ db, store, key, includes, count, ms }) =>
      new Promise<boolean>((resolve) => {
        const deadline = Date.now() + ms;
        const check = () => {
          const again = () => {
            if (Date.now() > deadline) resolve(false);
            else setTimeout(check, 50);
          };
          const open = indexedDB.open(db);
          // not there yet: never create it here (the app's own upgrade would not run then)
          open.onupgradeneeded = () => open.transaction?.abort();
          open.onerror = again;
          open.onsuccess = () => {
            if (!open.result.objectStoreNames.contains(store)) {
              open.result.close();
              again();
              return;
            }
            const objects = open.result.transaction(store).objectStore(store);
            const read = key === undefined ? objects.count() : objects.get(key);
            read.onerror = () => {
              open.result.close();
              again();
            };
            read.onsuccess = () => {
              open.result.close();
              const ok =
                key === undefined
                  ? read.result === count
                  : (includes ?? []).every((s) => String(read.result ?? '').includes(s));
              if (ok) resolve(true);
              else again();
            };
          };
        };
        check();
      }),
    { ...where, ms: timeout },
  );
  expect(found, `IndexedDB ${where.db}/${where.store} ${where.key ?? ''}`).toBe(true);
}

/** Waits until the user's query cache saved in IndexedDB holds the feed, the post and its comments. */
const cacheSaved = (page: E2EPage, userId: string, postId: string) =>
  untilStored(page, {
    db: 'kith-offline',
    store: 'kv',
    key: `query-cache:${userId}`,
    includes: ['["feed","home"]', `["post","${postId}"]`, `["post","${postId}","comments"]`],
  });

/**
 * The network goes (or comes back) for the browser: its own switch (navigator.onLine, the page's
 * requests) and the proxy cut — Firefox ESR's WebDriver BiDi offline emulation covers the page's
 * browsing context but not its service worker's own fetches (a server page loads offline there).
 */
async function setOffline(page: E2EPage, on: boolean) {
  proxy.setDown(on);
  await page.setOffline(on);
}

const outboxStates = (page: E2EPage) =>
  page.evaluate(
    () =>
      [...document.querySelectorAll('[data-outbox-state]')].map((li) => li.getAttribute('data-outbox-state')),
    undefined,
  );

/** Waits until `n` outbox items are listed (in any state). */
const outboxListed = (page: E2EPage, n: number, state = '', timeout?: number) =>
  page.waitUntil(
    ([s, k]) =>
      document.querySelectorAll(s ? `[data-outbox-state="${s}"]` : '[data-outbox-state]').length === k,
    [state, n] as [string, number],
    timeout,
  );

describe.each(engines)('$name', ({ present, launch }) => {
  let browser: E2EBrowser;
  let page: E2EPage;
  let alice: User;
  let postId: string;
  let conversationId: string;

  beforeAll(async () => {
    if (!present) return;
    alice = await signUp('alice');
    ({ id: postId } = await api(alice, 'POST', '/posts', {
      text: 'Written online before the trip',
      visibility: 'friends',
    }));
    // a friend to chat with (crossing requests: friends at once)
    const bob = await signUp('bob');
    await api(alice, 'POST', '/friend-requests', { username: bob.username });
    await api(bob, 'POST', '/friend-requests', { username: alice.username });
    ({ id: conversationId } = await api(alice, 'POST', '/conversations', { usernames: [bob.username] }));
    await api(bob, 'POST', `/posts/${postId}/comments`, { text: 'Bon voyage from Bob' });
    browser = await launch();
    page = await browser.newPage();
    await page.goto(`${proxy.url}/login`);
    await page.fill('input[name="login"]', alice.username);
    await page.fill('input[name="password"]', alice.password);
    await page.click('button[type="submit"]');
    await page.waitUntil(() => location.pathname === '/', undefined);
    await hasText(page, 'article', 'Written online before the trip');
    // the service worker controls the page (first install claims it) and has precached the shell
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((r) =>
          navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }),
        );
      }
    }, undefined);
    // the post page once, so its answer is in the saved cache too
    await navigate(page, `/posts/${postId}`);
    await page.waitFor('.reactions button');
    await hasText(page, 'main .comment', 'Bon voyage from Bob');
    await navigate(page, '/');
    await cacheSaved(page, alice.id, postId);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(!present)(
    'reloaded with the network off, the app and the last feed render from the device',
    async () => {
      // (saves are throttled: the one in IndexedDB when the network goes must hold the post too)
      await cacheSaved(page, alice.id, postId);
      await setOffline(page, true);
      await page.reload();
      await hasText(page, 'main h1', 'Home');
      await hasText(page, 'article', 'Written online before the trip');
      await page.waitFor('[data-offline]');
      // a server page never visited: the offline page, not the browser's error
      await page.goto(`${proxy.url}/docs`).catch(() => undefined);
      await hasText(page, 'h1', 'You are offline');
    },
  );

  it.skipIf(!present)(
    'reloaded with the network off on a post page saved earlier, the post and its comments render',
    async () => {
      // still offline: a document load of the post page (the service worker answers with the shell)
      await page.goto(`${proxy.url}/posts/${postId}`).catch(() => undefined);
      await hasText(page, 'main article', 'Written online before the trip');
      await hasText(page, 'main .comment', 'Bon voyage from Bob');
      await page.reload();
      await hasText(page, 'main article', 'Written online before the trip');
      await hasText(page, 'main .comment', 'Bon voyage from Bob');
      await page.waitFor('[data-offline]');
    },
  );

  it.skipIf(!present)(
    'writes made offline — post, comment, reaction, chat message — are kept across a reload and reach the server exactly once',
    async () => {
      // the post page opened online, then the network goes
      await setOffline(page, false);
      await page.goto(`${proxy.url}/posts/${postId}`);
      await page.waitFor('.reactions button');
      await setOffline(page, true);
      await page.fill('main section textarea', 'A comment with no signal');
      await page.click('main section form button[type="submit"]');
      await page.click('.reactions button:first-of-type');
      // a post
      await navigate(page, '/compose');
      await page.fill('main textarea', 'Posted from the mountains #offline');
      await page.click('main form button[type="submit"]');
      await hasText(page, 'main [role="status"]', 'Saved on this device');
      await outboxListed(page, 3, 'pending');
      // a chat message: its screen sends it by itself (socket, then HTTP), the outbox keeps it
      await navigate(page, `/chat/${conversationId}`);
      await page.fill('.chat-composer textarea', 'Chat from the valley');
      await page.click('.chat-composer button[type="submit"]');
      await untilStored(page, { db: 'kith-outbox', store: 'items', count: 4 });

      // the queue survives a reload (still offline), the chat message in it too
      await page.reload();
      await outboxListed(page, 4, 'pending');
      expect(await outboxStates(page)).toEqual(['pending', 'pending', 'pending', 'pending']);
      expect(await count('posts WHERE author_id = $1', [alice.id])).toBe(1);

      await setOffline(page, false);
      await outboxListed(page, 0, '', 60_000);
      expect(
        await count('posts WHERE author_id = $1 AND text = $2', [
          alice.id,
          'Posted from the mountains #offline',
        ]),
      ).toBe(1);
      expect(await count('comments WHERE post_id = $1 AND author_id = $2', [postId, alice.id])).toBe(1);
      expect(await count('reactions WHERE post_id = $1 AND user_id = $2', [postId, alice.id])).toBe(1);
      expect(
        await count('messages WHERE conversation_id = $1 AND body = $2', [
          conversationId,
          'Chat from the valley',
        ]),
      ).toBe(1);
    },
  );

  it.skipIf(!present)('back online, the post page shows what the server has', async () => {
    await navigate(page, `/posts/${postId}`);
    await hasText(page, 'main .comment', 'A comment with no signal');
  });

  it.skipIf(!present)(
    'a comment whose answer was lost after the server committed it is sent again with the same key, stored once',
    async () => {
      await navigate(page, `/posts/${postId}`);
      proxy.loseNextCommentAnswer();
      const before = proxy.commentKeys.length;
      await page.fill('main section textarea', 'Sent once, answered never');
      await page.click('main section form button[type="submit"]');
      await hasText(page, 'main .comment', 'Sent once, answered never', 60_000);
      await outboxListed(page, 0);
      const keys = proxy.commentKeys.slice(before);
      expect(keys.length).toBeGreaterThanOrEqual(2);
      expect(new Set(keys).size).toBe(1);
      expect(
        await count('comments WHERE post_id = $1 AND text = $2', [postId, 'Sent once, answered never']),
      ).toBe(1);
    },
  );
});
