import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { checkScreen } from './support/screens.ts';

const engines = [
  { name: 'chromium', present: hasChromium, launch: launchChromium, binary: '/usr/bin/chromium' },
  { name: 'firefox', present: hasFirefox, launch: launchFirefox, binary: '/usr/bin/firefox-esr' },
] as const;

for (const engine of engines) {
  if (!engine.present) {
    console.warn(`[e2e] ${engine.name} skipped: ${engine.binary} is not installed (CI installs it)`);
  }
}

let kith: RunningKith;
/** A 3000×2000 JPEG with GPS in its EXIF: the browser downscales it and drops the metadata. */
let photo: string;
beforeAll(async () => {
  if (!engines.some((e) => e.present)) return;
  kith = await startKith();
  photo = join(await mkdtemp(join(tmpdir(), 'kith-e2e-img-')), 'holiday.jpg');
  const jpeg = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#3b7dd8' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'KithCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1' } })
    .toBuffer();
  await writeFile(photo, jpeg);
}, 120_000);
afterAll(async () => {
  await kith?.stop();
});

/** Console noise that is not a problem of the app: the browser's line for an expected 4xx. */
const benign = (line: string) => /Failed to load resource|status of 40[13]/.test(line);

/** Every visible string outside user content must come from the catalogue (pseudo-localised). */
async function hardCodedStrings(page: E2EPage): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim() ?? '';
      const parent = node.parentElement;
      if (!text || !parent || parent.closest('[data-user-content], script, style, noscript')) continue;
      if (!/[A-Za-z]/.test(text)) continue; // punctuation, numbers, symbols
      if (!parent.closest('body') || parent.getClientRects().length === 0) continue;
      if (!/[⟦⟧]/.test(text) && !parent.closest('[lang]:not(html)')) found.push(text);
    }
    for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], img[alt]')) {
      for (const attr of ['aria-label', 'placeholder', 'title', 'alt']) {
        const value = el.getAttribute(attr);
        if (value && /[A-Za-z]/.test(value) && !/[⟦⟧]/.test(value) && !el.closest('[data-user-content]'))
          found.push(`${attr}=${value}`);
      }
    }
    return found;
  }, undefined);
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
    'serves the app with the strict CSP and runs under it without a violation',
    async () => {
      const res = await fetch(`${kith.url}/login`);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-(inline|eval)/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("require-trusted-types-for 'script'");
      expect(await res.text()).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script

      const page = await browser.newPage();
      try {
        await page.goto(`${kith.url}/login`);
        await page.waitFor('h1');
        const violations = await page.evaluate(
          () => (window as unknown as { __cspViolations: string[] }).__cspViolations,
          undefined,
        );
        expect(violations).toEqual([]);
        expect(page.problems.filter((p) => !benign(p))).toEqual([]);
      } finally {
        await page.close();
      }
    },
  );

  it.skipIf(!present)('shows no hard-coded string in the pseudo-locale', async () => {
    const page = await browser.newPage();
    try {
      for (const path of ['/login?lang=pseudo', '/signup?lang=pseudo']) {
        await page.goto(`${kith.url}${path}`);
        await page.waitFor('h1', '⟦');
        expect(await hardCodedStrings(page), path).toEqual([]);
      }
    } finally {
      await page.close();
    }
  });

  it.skipIf(!present)(
    'signs up, sees the empty feed, stays signed in across a reload, logs out and back in',
    async () => {
      const page = await browser.newPage();
      const username = `${name.slice(0, 2)}_${Date.now().toString(36)}`;
      const password = 'correct horse battery staple';
      try {
        await page.goto(`${kith.url}/`);
        await page.waitFor('h1', 'Log in');
        await checkScreen(page, name, 'login');

        await page.click('a[href="/signup"]');
        await page.waitFor('h1', 'Create your Kith account');
        await page.fill('input[name="username"]', username);
        await page.fill('input[name="email"]', `${username}@example.com`);
        await page.fill('input[name="password"]', 'short');
        await page.waitFor('.rules .rule:not(.met)', 'At least 10 characters');
        await page.fill('input[name="password"]', password);
        await page.waitFor('.rules .rule.met', 'At least 10 characters');
        await checkScreen(page, name, 'signup');
        await page.click('button[type="submit"]');

        await page.waitFor('h1', 'Home');
        await page.waitFor('.empty', 'Nothing here yet');
        await checkScreen(page, name, 'feed-empty');

        // compose a post with an image: progress shown, "processing" until the server has it ready
        await page.click('a[href="/compose"]');
        await page.waitFor('h1', 'New post');
        await page.evaluate(() => {
          const seen: string[] = [];
          (window as unknown as { __uploadSeen: string[] }).__uploadSeen = seen;
          new MutationObserver(() => {
            const status = document.querySelector('.attachment-status')?.textContent ?? '';
            if (document.querySelector('.attachment progress')) seen.push('progress');
            if (status && seen.at(-1) !== status) seen.push(status);
          }).observe(document.body, {
            subtree: true,
            childList: true,
            characterData: true,
            attributes: true,
          });
        }, undefined);
        await page.fill('textarea', `Hello from ${name} #kithtest @${username}`);
        await page.upload('input[type="file"]', photo);
        await page.waitFor('.attachment-status', 'Ready', 60_000);
        const seen = await page.evaluate(
          () => (window as unknown as { __uploadSeen: string[] }).__uploadSeen,
          undefined,
        );
        expect(seen).toContain('progress');
        expect(seen.some((s) => s.startsWith('Processing'))).toBe(true);
        await checkScreen(page, name, 'compose');
        // no description yet: a reminder first, then an explicit "publish anyway"
        await page.click('button[type="submit"]');
        await page.waitFor('.notice', 'no description');
        await page.fill('.attachment input', 'A blue square');
        await page.click('button[type="submit"]');
        await page.waitFor('h1', 'Home');
        await page.waitFor('article .post-text', `Hello from ${name}`);
        await page.waitFor('article .entity.hashtag', '#kithtest');
        await page.waitFor('article img[alt="A blue square"]');
        const image = await page.evaluate(async () => {
          const img = document.querySelector<HTMLImageElement>('article img')!;
          await img.decode();
          return { width: img.naturalWidth, src: img.src };
        }, undefined);
        expect(image.width).toBeGreaterThan(0);
        expect(image.width).toBeLessThanOrEqual(1600);
        await checkScreen(page, name, 'feed');
        // keyboard: j focuses the first post, ? opens the shortcut list, Esc closes it
        await page.press('j');
        expect(
          await page.evaluate(() => document.activeElement?.getAttribute('aria-posinset'), undefined),
        ).toBe('1');
        await page.press('?');
        await page.waitFor('dialog[open]', 'Keyboard shortcuts');
        expect(await axeViolations(page)).toEqual([]);
        await page.press('Escape');
        expect(await page.evaluate(() => document.querySelector('dialog[open]') === null, undefined)).toBe(
          true,
        );

        // the post's page: react (optimistic), comment (idempotent), see both
        await page.click('article a[href^="/posts/"]');
        await page.waitFor('h1', 'Post');
        await page.waitFor('.reactions button');
        await page.click('.reactions button:first-of-type');
        await page.waitFor('.reactions button[aria-pressed="true"]', 'Like 1');
        await page.fill('form textarea', 'First comment!');
        await page.click('form button[type="submit"]');
        await page.waitFor('.comment .post-text', 'First comment!');
        await page.waitFor('.post-counts', '1 comment');
        await checkScreen(page, name, 'post');
        await page.click('a[href="/"]');
        await page.waitFor('h1', 'Home');

        // the access token lived in memory only: the refresh cookie brings the session back
        await page.goto(`${kith.url}/`);
        await page.waitFor('h1', 'Home');

        await page.click('header button:last-child');
        await page.waitFor('h1', 'Log in');

        await page.fill('input[name="login"]', username);
        await page.fill('input[name="password"]', 'wrong password!');
        await page.click('button[type="submit"]');
        await page.waitFor('[role="alert"]');

        await page.fill('input[name="password"]', password);
        await page.click('button[type="submit"]');
        await page.waitFor('h1', 'Home');
        const violations = await page.evaluate(
          () => (window as unknown as { __cspViolations: string[] }).__cspViolations,
          undefined,
        );
        expect(violations).toEqual([]);
      } finally {
        await page.close();
      }
    },
    180_000,
  );
});
