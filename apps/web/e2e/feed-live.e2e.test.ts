/**
 * The home feed, live (issue 10): a friend posts while the reader is on the feed → the "N new
 * posts" pill appears and the feed does not move under the reader; pressing it shows the new posts
 * at the top and takes the focus to the feed's heading; axe finds nothing. `feed.new` is behind the
 * `feed-new-posts-event` flag (rolled out to nobody by default): an admin turns it on through the
 * flags API, as an operator would. In Chromium and Firefox; one Kith for the file.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setRole } from './support/accounts.ts';
import { axeViolations } from './support/axe.ts';
import {
  type E2EBrowser,
  type E2EPage,
  hasChromium,
  hasFirefox,
  launchChromium,
  launchFirefox,
} from './support/browsers.ts';
import { type RunningKith, startKith } from './support/kith.ts';

const engines = [
  { name: 'chromium', present: hasChromium, launch: launchChromium },
  { name: 'firefox', present: hasFirefox, launch: launchFirefox },
] as const;

const FLAG = 'feed-new-posts-event';

interface User {
  id: string;
  username: string;
  password: string;
  token: string;
}

let kith: RunningKith;

async function api(user: User | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${kith.url}/api/v1${path}`, {
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

/** An admin: promoted in the database (what an operator does), then signed in again for the role. */
async function admin(): Promise<User> {
  const user = await signUp('staff');
  await setRole(kith.databaseUrl, user.username, 'admin');
  const { accessToken } = await api(undefined, 'POST', '/auth/login', {
    login: user.username,
    password: user.password,
  });
  return { ...user, token: accessToken };
}

beforeAll(async () => {
  if (!engines.some((e) => e.present)) return;
  // one event per fan-out (no coalescing window): the test need not wait for a window to close
  kith = await startKith({ FEED_NEW_EVENT_WINDOW_MS: '0', RATE_LIMIT_UNVERIFIED_PER_HOUR: '100' });
  const staff = await admin();
  await api(staff, 'PUT', `/admin/flags/${FLAG}`, {
    enabled: true,
    defaultVariant: 'off',
    rollout: [{ variant: 'on', percent: 100 }],
  });
}, 120_000);
afterAll(async () => {
  await kith?.stop();
});

/** The feed's articles' texts, top to bottom. */
/** Each article's post text, in order (not the whole article: its "1 second ago" moves on by itself). */
const feedTexts = (page: E2EPage) =>
  page.evaluate(
    () =>
      [...document.querySelectorAll('main article')].map(
        (a) => a.querySelector('.post-text')?.textContent ?? '',
      ),
    undefined,
  );

describe.each(engines)('$name', ({ present, launch }) => {
  let browser: E2EBrowser;
  let page: E2EPage;
  let reader: User;
  let friend: User;

  beforeAll(async () => {
    if (!present) return;
    reader = await signUp('reader');
    friend = await signUp('friend');
    await api(reader, 'POST', '/friend-requests', { username: friend.username });
    await api(friend, 'POST', '/friend-requests', { username: reader.username }); // crossing: friends
    await api(friend, 'POST', '/posts', {
      text: 'Already there before the reader came',
      visibility: 'friends',
    });
    browser = await launch();
    page = await browser.newPage();
    await page.goto(`${kith.url}/login`);
    await page.fill('input[name="login"]', reader.username);
    await page.fill('input[name="password"]', reader.password);
    await page.click('button[type="submit"]');
    await page.waitUntil(() => location.pathname === '/' && document.querySelector('main h1'), undefined);
    await page.waitFor('main article', 'Already there before the reader came');
    // the flag answers for this reader, and the socket is up: feed.new can reach the page
    await page.waitUntil(() => document.querySelector('.connection-status[data-state="live"]'), undefined);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(!present)(
    'a friend posts: the pill says how many, the feed stays put; pressing it shows them on top, focus on the heading',
    async () => {
      const before = await feedTexts(page);
      expect(before[0]).toContain('Already there before the reader came');

      await api(friend, 'POST', '/posts', { text: 'Fresh from the friend, one', visibility: 'friends' });
      await api(friend, 'POST', '/posts', { text: 'Fresh from the friend, two', visibility: 'friends' });
      await page.waitFor('.new-posts-pill', '2 new posts', 30_000);
      // nothing moved under the reader: the same articles, the same first one
      expect(await feedTexts(page)).toEqual(before);
      expect(await axeViolations(page)).toEqual([]);

      await page.click('.new-posts-pill');
      await page.waitUntil(
        () => document.querySelector('main article')?.textContent?.includes('Fresh from the friend, two'),
        undefined,
      );
      const texts = [
        'Fresh from the friend, two',
        'Fresh from the friend, one',
        'Already there before the reader came',
      ];
      const after = (await feedTexts(page)).map((t) => texts.find((known) => t.includes(known)));
      expect(after.slice(0, 3)).toEqual(texts);
      // the pill is gone, and the focus is on the feed's heading (not lost on <body>)
      expect(await page.evaluate(() => document.querySelector('.new-posts-pill') === null, undefined)).toBe(
        true,
      );
      expect(
        await page.evaluate(() => document.activeElement === document.querySelector('main h1'), undefined),
      ).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
    },
  );
});
