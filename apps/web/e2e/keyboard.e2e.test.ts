/**
 * The keyboard-only journey (issue 9): sign up, post, react and move through the windowed feed with
 * j/k — with the keyboard alone (a test counts pointer and mouse events and expects none), in
 * Chromium and Firefox. One Kith for the file; one sign-up per engine.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './support/axe.ts';
import {
  ARTIFACTS,
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
/** More than one page of the feed (20), so j walks past what was loaded first. */
const SEEDED_POSTS = 26;

let kith: RunningKith;
let photo: string;
beforeAll(async () => {
  if (!engines.some((e) => e.present)) return;
  // the journey's account is not e-mail-verified: it may still write more than one feed page
  kith = await startKith({ RATE_LIMIT_UNVERIFIED_PER_HOUR: '100' });
  photo = join(await mkdtemp(join(tmpdir(), 'kith-e2e-kb-')), 'square.png');
  await writeFile(
    photo,
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#c03' } })
      .png()
      .toBuffer(),
  );
}, 120_000);
afterAll(async () => {
  await kith?.stop();
});

/** Counts every pointer and mouse event the page sees (none may happen in this journey). */
async function watchPointer(page: E2EPage) {
  await page.evaluate(() => {
    const w = window as unknown as { __pointer: string[] };
    w.__pointer = [];
    for (const type of ['pointerdown', 'pointerup', 'mousedown', 'mouseup', 'mousemove', 'wheel']) {
      addEventListener(type, (e) => w.__pointer.push(`${type}@${(e.target as Element)?.tagName}`), true);
    }
  }, undefined);
}
const pointerEvents = (page: E2EPage) =>
  page.evaluate(() => (window as unknown as { __pointer: string[] }).__pointer, undefined);

const focused = (page: E2EPage, selector: string) =>
  page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector);

/** Tab (forwards) until the element matching `selector` has focus. */
async function tabTo(page: E2EPage, selector: string) {
  for (let i = 0; i < 60; i++) {
    if (await focused(page, selector)) return;
    await page.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function typeKeys(page: E2EPage, text: string) {
  for (const ch of text) await page.press(ch);
}

/** The post with keyboard focus: its position in the feed. */
const focusedPosition = (page: E2EPage) =>
  page.evaluate(() => document.activeElement?.getAttribute('aria-posinset') ?? null, undefined);

/**
 * Presses `key` and waits until the post at `position` is the document's focused element (read
 * from activeElement, not `:focus`, which a page the browser does not treat as focused may not
 * match while loaded). On a miss, says where focus is and how far the page is scrolled.
 */
async function pressAndLand(page: E2EPage, key: string, position: number) {
  await page.press(key);
  try {
    await page.waitUntil(
      (p: string) => document.activeElement?.matches(`article[aria-posinset="${p}"]`) ?? false,
      String(position),
      20_000,
    );
  } catch (err) {
    const where = await page.evaluate(
      () => ({
        active: `${document.activeElement?.tagName} ${document.activeElement?.getAttribute('aria-posinset') ?? ''} ${document.activeElement?.className ?? ''}`,
        scrollY: window.scrollY,
        dialog: Boolean(document.querySelector('dialog[open]')),
        rendered: [...document.querySelectorAll('[role="feed"] article')].map((a) =>
          a.getAttribute('aria-posinset'),
        ),
      }),
      undefined,
    );
    throw new Error(`after ${key}, post ${position} is not focused: ${JSON.stringify(where)}`, {
      cause: err,
    });
  }
}

async function seedPosts(username: string, password: string) {
  const login = await fetch(`${kith.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: username, password }),
  });
  expect(login.status).toBe(200);
  const { accessToken } = (await login.json()) as { accessToken: string };
  for (let i = 1; i <= SEEDED_POSTS; i++) {
    const res = await fetch(`${kith.url}/api/v1/posts`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${accessToken}`,
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({ text: `Seeded post ${i}`, visibility: 'friends' }),
    });
    expect(res.status).toBe(201);
  }
  // fan-out is a job: wait until the author's own feed has them all
  for (let tries = 0; ; tries++) {
    const res = await fetch(`${kith.url}/api/v1/feed?limit=50`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const { items } = (await res.json()) as { items: unknown[] };
    if (items.length >= SEEDED_POSTS) return;
    if (tries > 300) throw new Error(`the feed has ${items.length} posts`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(engines)('$name', ({ name, present, launch }) => {
  let browser: E2EBrowser;
  beforeAll(async () => {
    if (present) browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(!present)(
    'signs up, posts, reacts and walks the windowed feed with the keyboard alone',
    async () => {
      const page = await browser.newPage();
      const username = `kb${name.slice(0, 2)}${Date.now().toString(36)}`;
      const password = 'keyboard only journey';
      try {
        await page.viewport(1280, 800);
        await page.goto(`${kith.url}/signup`);
        await page.waitFor('h1', 'Create your Kith account');
        await watchPointer(page);

        // sign up
        await tabTo(page, 'input[name="username"]');
        await typeKeys(page, username);
        await tabTo(page, 'input[name="email"]');
        await typeKeys(page, `${username}@example.com`);
        await tabTo(page, 'input[name="password"]');
        await typeKeys(page, password);
        await page.press('Enter');
        await page.waitFor('h1', 'Home');
        await page.waitFor('.empty', 'Nothing here yet');
        // more posts than one page of the feed, written meanwhile (the post below refreshes the feed)
        await seedPosts(username, password);

        // post: the "New post" link, the text, the submit button
        await tabTo(page, 'a[href="/compose"]');
        await page.press('Enter');
        await page.waitFor('h1', 'New post');
        await tabTo(page, 'textarea');
        await typeKeys(page, 'Typed with keys #keyboard');
        // an image (a file chooser's answer is not a pointer event); at 360 px nothing may stick out
        await page.upload('input[type="file"]', photo);
        await page.waitFor('.attachment-status', 'Ready', 60_000);
        await page.viewport(360, 800);
        await page.screenshot(join(ARTIFACTS, name, 'compose-image-360x800.png'));
        expect(
          await page.evaluate(() => document.documentElement.scrollWidth, undefined),
        ).toBeLessThanOrEqual(360);
        await page.viewport(1280, 800);
        await tabTo(page, '.attachment input');
        await typeKeys(page, 'A red square');
        await tabTo(page, 'button[type="submit"]');
        await page.press('Enter');
        await page.waitFor('h1', 'Home');
        await page.waitFor('article .post-text', 'Typed with keys');
        await page.waitFor('article img[alt="A red square"]');

        await page.waitFor('article .post-text', `Seeded post ${SEEDED_POSTS}`);
        const feed = await page.evaluate(
          () => ({
            rendered: document.querySelectorAll('[role="feed"] article').length,
            setSize: document.querySelector('[role="feed"] article')?.getAttribute('aria-setsize'),
          }),
          undefined,
        );
        expect(feed.setSize).toBe('-1'); // more to load
        expect(feed.rendered).toBeLessThan(20); // windowed: not the whole first page

        // j/k: focus moves post by post, through posts that were not rendered and past the first page
        await pressAndLand(page, 'j', 1);
        for (let position = 2; position <= SEEDED_POSTS + 1; position++) {
          await pressAndLand(page, 'j', position);
        }
        expect(await focusedPosition(page)).toBe(String(SEEDED_POSTS + 1));
        const end = await page.evaluate(
          () => ({
            rendered: document.querySelectorAll('[role="feed"] article').length,
            setSize: document.activeElement?.getAttribute('aria-setsize'),
          }),
          undefined,
        );
        expect(end.rendered).toBeLessThan(SEEDED_POSTS); // still a window
        expect(end.setSize).toBe(String(SEEDED_POSTS + 1)); // all loaded: the size is known
        await pressAndLand(page, 'k', SEEDED_POSTS);
        await pressAndLand(page, 'k', SEEDED_POSTS - 1);
        expect(await axeViolations(page)).toEqual([]);

        // r reacts to the focused post; Enter opens it, where the reaction shows as pressed
        await page.press('r');
        await page.waitFor('[role="status"]', 'You liked the post');
        await page.waitFor(`article[aria-posinset="${SEEDED_POSTS - 1}"] .post-counts`, '1 reaction');
        expect(await focusedPosition(page)).toBe(String(SEEDED_POSTS - 1));
        const scrolled = await page.evaluate(() => window.scrollY, undefined);
        expect(scrolled).toBeGreaterThan(1000);
        await page.press('Enter');
        await page.waitFor('h1', 'Post');
        await page.waitFor('.reactions button[aria-pressed="true"]');

        // back to the feed: the same place
        await page.evaluate(() => history.back(), undefined);
        await page.waitFor('h1', 'Home');
        await page.waitFor(`article[aria-posinset="${SEEDED_POSTS - 1}"]`);
        const back = await page.evaluate((position) => {
          const box = document.querySelector(`article[aria-posinset="${position}"]`)!.getBoundingClientRect();
          return { scrollY: window.scrollY, onScreen: box.bottom > 0 && box.top < window.innerHeight };
        }, SEEDED_POSTS - 1);
        expect(Math.abs(back.scrollY - scrolled)).toBeLessThan(50);
        expect(back.onScreen).toBe(true);

        expect(await pointerEvents(page)).toEqual([]);
      } finally {
        await page.close();
      }
    },
    240_000,
  );
});
