import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type E2EBrowser,
  type E2EPage,
  hasChromium,
  hasFirefox,
  launchChromium,
  launchFirefox,
} from './support/browsers.ts';
import { type RunningKith, startKith } from './support/kith.ts';
import { checkScreen } from './support/screens.ts';

/**
 * Two people in two browser contexts: A posts, B befriends A, sees the post, comments and reacts;
 * A edits and deletes, curates a collection and reorders it from the keyboard (the server's order
 * is checked), blocks and unblocks, asks for an export and logs out everywhere. The new screens
 * (edit dialog, collections, a collection, blocked list) get axe in both themes and screenshots.
 */
const engines = [
  { name: 'chromium', present: hasChromium, launch: launchChromium },
  { name: 'firefox', present: hasFirefox, launch: launchFirefox },
] as const;

let kith: RunningKith;
beforeAll(async () => {
  if (engines.some((e) => e.present)) kith = await startKith();
}, 120_000);
afterAll(async () => {
  await kith?.stop();
});

const PASSWORD = 'correct horse battery staple';

/** Waits for an element matching `selector` whose text has `text`, then clicks it (a DOM click). */
async function clickText(page: E2EPage, selector: string, text: string) {
  await page.waitFor(selector, text);
  await page.evaluate(
    ([s, t]) => {
      [...document.querySelectorAll<HTMLElement>(s)].find((e) => (e.textContent ?? '').includes(t))?.click();
    },
    [selector, text] as [string, string],
  );
}

async function signUp(page: E2EPage, username: string) {
  await page.bringToFront();
  await page.goto(`${kith.url}/signup`);
  await page.waitFor('h1', 'Create your Kith account');
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="email"]', `${username}@example.com`);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitFor('h1', 'Home');
}

async function compose(page: E2EPage, text: string): Promise<string> {
  await page.click('a[href="/compose"]');
  await page.waitFor('h1', 'New post');
  await page.fill('textarea', text);
  await page.click('button[type="submit"]');
  await page.waitFor('article .post-text', text);
  return page.evaluate(
    (t) =>
      [...document.querySelectorAll('article')]
        .find((a) => a.querySelector('.post-text')?.textContent?.includes(t))
        ?.querySelector<HTMLAnchorElement>('a[href^="/posts/"]')
        ?.pathname.split('/')
        .pop() ?? '',
    text,
  );
}

const path = (page: E2EPage) => page.evaluate(() => location.pathname, undefined);

/** The API as A's own client sees it, from the test (a session of its own). */
async function apiAs(username: string) {
  const login = await fetch(`${kith.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: username, password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  const { accessToken } = (await login.json()) as { accessToken: string };
  return (url: string) => fetch(`${kith.url}${url}`, { headers: { authorization: `Bearer ${accessToken}` } });
}

describe.each(engines)('$name', ({ name, present, launch }) => {
  let browser: E2EBrowser;
  /**
   * B's browser. Chromium: the same browser, a second context. Firefox: a second browser, since
   * headless Firefox throttles the animation frames of the tab that is not in front (bringToFront
   * does not always win it back), and the driver's waits run on those frames.
   */
  let browserB: E2EBrowser;
  beforeAll(async () => {
    if (!present) return;
    browser = await launch();
    browserB = name === 'firefox' ? await launch() : browser;
  }, 60_000);
  afterAll(async () => {
    if (browserB !== browser) await browserB?.close();
    await browser?.close();
  });

  // Runs in Firefox again (it was skipped after timeouts in CI at the "Add to collection" dialog and
  // locally later in the journey). The dialog's did not reproduce (6 Firefox runs pass at load 12-15,
  // and so does the code of the commit that skipped it); later in the journey, the keyboard reorder
  // lost its ArrowDown (a test race, fixed below; seen in Chromium); and another engineer rebuilding
  // the shared apps/web/dist mid-run makes the served chunks vanish (run e2e under
  // /tmp/kith-webbuild.lock). If it times out again, the catch below says where A and B were.
  it.skipIf(!present)(
    'two people: befriend, comment, react; edit, delete, collections reordered by keyboard and mouse, block list, export, log out everywhere',
    async () => {
      const stamp = Date.now().toString(36);
      const a = `a${name.slice(0, 2)}_${stamp}`;
      const b = `b${name.slice(0, 2)}_${stamp}`;
      // two browser contexts: two people, no shared cookies or storage
      const pa = await browser.newPage();
      const pb = await browserB.newPage();
      try {
        // A signs up and posts twice
        await signUp(pa, a);
        const p1 = await compose(pa, `First post by ${a}`);
        const p2 = await compose(pa, `Second post by ${a}`);
        expect(p1).toMatch(/^[0-9a-f-]{36}$/);
        expect(p2).toMatch(/^[0-9a-f-]{36}$/);

        // B signs up, asks A to be friends; A accepts
        await signUp(pb, b);
        await pb.goto(`${kith.url}/users/${a}`);
        await clickText(pb, 'button', 'Add friend');
        await pb.waitFor('.profile-actions', 'Waiting for an answer');
        await pa.bringToFront();
        await pa.goto(`${kith.url}/friends`);
        await pa.click(`button[aria-label="Accept friend request from ${b}"]`);
        await pa.waitFor('section', 'No one is waiting for your answer.');

        // B sees A's post in the feed (filled by a job after the accept), opens it, reacts, comments
        await pb.bringToFront();
        await pb.goto(`${kith.url}/`);
        await pb.waitFor('article .post-text', `Second post by ${a}`, 30_000);
        await pb.goto(`${kith.url}/posts/${p2}`);
        await pb.waitFor('.reactions button');
        await pb.click('.reactions button:first-of-type');
        await pb.waitFor('.reactions button[aria-pressed="true"]', 'Like 1');
        await pb.fill('form textarea', `Nice one, ${a}!`);
        await pb.click('form button[type="submit"]');
        await pb.waitFor('.comment .post-text', `Nice one, ${a}!`);

        // A sees both; comments, edits the comment in a dialog, then deletes it (Esc keeps it first)
        await pa.bringToFront();
        await pa.goto(`${kith.url}/posts/${p2}`);
        await pa.waitFor('.comment .post-text', `Nice one, ${a}!`);
        await pa.waitFor('.reactions button', 'Like 1');
        await pa.fill('form textarea', 'Thanks, typo here');
        await pa.click('form button[type="submit"]');
        await pa.waitFor('.comment .post-text', 'Thanks, typo here');
        await pa.click(`.comment button[aria-label="Edit comment by ${a}"]`);
        await pa.waitFor('dialog[open] h2', 'Edit comment');
        expect(await pa.evaluate(() => document.activeElement?.tagName, undefined)).toBe('TEXTAREA');
        await checkScreen(pa, name, 'edit-comment-dialog');
        await pa.fill('dialog[open] textarea', 'Thanks, fixed');
        await pa.click('dialog[open] button[type="submit"]');
        await pa.waitFor('.comment', 'edited');
        await pa.waitFor('.comment .post-text', 'Thanks, fixed');
        expect(await pa.evaluate(() => document.querySelector('dialog[open]') === null, undefined)).toBe(
          true,
        );
        await pa.click(`.comment button[aria-label="Delete comment by ${a}"]`);
        await pa.waitFor('dialog[open]', 'Delete this comment?');
        await pa.press('Escape');
        expect(await pa.evaluate(() => document.querySelector('dialog[open]') === null, undefined)).toBe(
          true,
        );
        // focus went back to the button that opened the dialog
        expect(await pa.evaluate(() => document.activeElement?.getAttribute('aria-label'), undefined)).toBe(
          `Delete comment by ${a}`,
        );
        await pa.click(`.comment button[aria-label="Delete comment by ${a}"]`);
        await pa.click('dialog[open] button.danger');
        await pa.waitFor('.post-counts', '1 comment');
        expect(
          await pa.evaluate(
            () => document.querySelector('.comments')?.textContent?.includes('Thanks, fixed'),
            undefined,
          ),
        ).toBe(false);

        // A makes a collection and adds both posts from their pages
        await pa.goto(`${kith.url}/collections`);
        await pa.waitFor('h1', 'Collections');
        await pa.waitFor('.empty', 'No collections yet.');
        await pa.fill('input[required]', 'Favourites');
        await clickText(pa, 'button[type="submit"]', 'Create collection');
        await pa.waitFor('h1', 'Favourites');
        const collectionId = (await path(pa)).split('/').pop()!;
        for (const post of [p1, p2]) {
          await pa.goto(`${kith.url}/posts/${post}`);
          await clickText(pa, 'button', 'Add to collection');
          await pa.click('dialog[open] button[aria-label="Add to Favourites"]');
          await pa.waitFor('dialog[open] [role="status"]', 'Added');
          await pa.press('Escape');
        }
        await pa.goto(`${kith.url}/collections`);
        await pa.waitFor('.people a', 'Favourites');
        await checkScreen(pa, name, 'collections');

        // reorder from the keyboard: focus the first handle, Space lifts, ArrowDown moves, Space drops
        await pa.goto(`${kith.url}/collections/${collectionId}`);
        await pa.waitFor('.collection-item:nth-child(2) .drag-handle');
        await checkScreen(pa, name, 'collection');
        const order = () =>
          pa.evaluate(
            () =>
              [...document.querySelectorAll('.collection-item')].map((li) => li.getAttribute('data-post-id')),
            undefined,
          );
        expect(await order()).toEqual([p1, p2]);
        await pa.evaluate(() => document.querySelector<HTMLElement>('.drag-handle')?.focus(), undefined);
        await pa.press(' ');
        await pa.waitFor('[id^="DndLiveRegion"]', 'Picked up');
        // dnd-kit's keyboard sensor listens for the arrows only from a timer task queued at the pick-up
        // (after 'Picked up' is announced), and a browser may run a key event before a timer: wait for
        // a timer task queued after it, or the ArrowDown can be lost (seen in Chromium under load)
        await pa.evaluate(() => new Promise<void>((resolve) => setTimeout(resolve, 0)), undefined);
        await pa.press('ArrowDown');
        await pa.waitFor('[id^="DndLiveRegion"]', 'moved to position 2 of 2');
        await pa.press(' ');
        await pa.waitFor('[id^="DndLiveRegion"]', 'dropped at position 2 of 2');
        expect(await order()).toEqual([p2, p1]);
        await pa.waitFor('.reorder-status', 'Order saved.');
        const asA = await apiAs(a);
        const saved = (await (await asA(`/api/v1/collections/${collectionId}`)).json()) as {
          items: { postId: string }[];
        };
        expect(saved.items.map((i) => i.postId)).toEqual([p2, p1]);
        // and back with the mouse: drag the first post's handle onto the second
        await pa.drag('.collection-item:nth-child(1) .drag-handle', '.collection-item:nth-child(2)');
        await pa.waitFor('.collection-item:nth-child(1)', 'First post');
        await pa.waitFor('.reorder-status', 'Order saved.');
        const dragged = (await (await asA(`/api/v1/collections/${collectionId}`)).json()) as {
          items: { postId: string }[];
        };
        expect(dragged.items.map((i) => i.postId)).toEqual([p1, p2]);

        // A edits the first post, then deletes the second (it leaves the collection's view too)
        await pa.goto(`${kith.url}/posts/${p1}`);
        await clickText(pa, 'button', 'Edit post');
        await pa.waitFor('dialog[open] h2', 'Edit post');
        await pa.fill('dialog[open] textarea', `First post by ${a}, edited`);
        await pa.click('dialog[open] button[type="submit"]');
        await pa.waitFor('article .post-text', `First post by ${a}, edited`);
        await pa.goto(`${kith.url}/posts/${p2}`);
        await clickText(pa, 'article button', 'Delete post');
        await pa.waitFor('dialog[open]', 'cannot be undone');
        await pa.click('dialog[open] button.danger');
        await pa.waitFor('h1', 'Home');
        expect((await asA(`/api/v1/posts/${p2}`)).status).toBe(404);

        // blocked list: A blocks B from the profile, sees B listed, unblocks
        await pa.goto(`${kith.url}/users/${b}`);
        await clickText(pa, '.profile-actions button', 'Block');
        await clickText(pa, '.profile-actions button', 'Yes, block');
        await pa.waitFor('.profile-actions', 'You blocked this person');
        await pa.goto(`${kith.url}/friends`);
        await pa.waitFor('.blocked-list', b);
        await pa.evaluate(
          () => document.querySelector('.blocked-list')?.closest('section')?.scrollIntoView(),
          undefined,
        );
        await checkScreen(pa, name, 'blocked-list');
        await pa.click(`.blocked-list button[aria-label="Unblock ${b}"]`);
        await pa.waitFor('section', 'You have not blocked anyone.');

        // export requested; then log out everywhere (the test's own session ends too)
        await pa.goto(`${kith.url}/settings`);
        await clickText(pa, 'button', 'Export my data');
        await pa.waitFor('section', 'Your export');
        await clickText(pa, 'button', 'Log out everywhere');
        await clickText(pa, 'button', 'Yes, log out everywhere');
        await pa.waitFor('h1', 'Log in');
        expect((await asA('/api/v1/me')).status).toBe(401);

        for (const page of [pa, pb]) {
          const violations = await page.evaluate(
            () => (window as unknown as { __cspViolations: string[] }).__cspViolations,
            undefined,
          );
          expect(violations).toEqual([]);
        }
      } catch (error) {
        // say where each person was: the failing wait alone does not
        for (const [who, page] of [
          ['A', pa],
          ['B', pb],
        ] as const) {
          const where = await page
            .evaluate(
              () =>
                `${location.pathname} as ${document.querySelector('nav a[href^="/users/"]')?.getAttribute('href')}: ${document.body.innerText.slice(0, 1000)}`,
              undefined,
            )
            .catch(() => '?');
          console.error(`[${name}] ${who} at ${where}\nproblems: ${page.problems.join('\n')}`);
        }
        throw error;
      } finally {
        await pa.close();
        await pb.close();
      }
    },
    300_000,
  );
});
