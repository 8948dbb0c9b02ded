/**
 * The web app in a real browser: Lighthouse 12.2.3 (mobile emulation, Debian's Chromium) on the
 * login page and on the feed of a seeded user, and INP measured in a scripted session (open a post,
 * react) next to the INP of a bare page's button under the same CPU throttling.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lighthouse from 'lighthouse';
import { chromium } from 'playwright-core';
import { createBenchDatabase } from './database.ts';
import { freePort, productionEnv, SERVER_MAIN, startNode } from './processes.ts';

const CHROMIUM = '/usr/bin/chromium';
const CATEGORIES = ['performance', 'accessibility', 'best-practices'] as const;
/** Lighthouse's mobile preset slows the CPU 4×; the scripted INP session uses the same. */
const CPU_SLOWDOWN = 4;
const SEEDED_POSTS = 30;

export interface LighthouseFigures {
  scores: Record<(typeof CATEGORIES)[number], number>;
  metrics: { fcpMs: number; lcpMs: number; tbtMs: number; cls: number };
  /** Audits that did not pass, e.g. `color-contrast (0)` — what to fix. */
  flagged: string[];
}

export interface AuditResult {
  login: LighthouseFigures;
  feed: LighthouseFigures;
  inp: { openPostMs: number; reactMs: number; bareButtonMs: number };
  /**
   * The feed's layout shifts in the scripted session (the page's own layout-shift entries: score,
   * when, what moved and how far) — what to fix for CLS. Lighthouse 12.2.3's own list fails with
   * this Chromium (its RootCauses gatherer).
   */
  feedShifts: string[];
}

async function runLighthouse(url: string, port: number): Promise<LighthouseFigures> {
  const result = await lighthouse(url, {
    port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: [...CATEGORIES],
    // keep the signed-in user's refresh cookie (the feed is behind sign-in)
    disableStorageReset: true,
  });
  if (!result) throw new Error(`Lighthouse returned nothing for ${url}`);
  const { lhr } = result;
  // BENCH_WEB_LHR_DIR=<dir>: the full reports too, to see what a score is made of
  if (process.env.BENCH_WEB_LHR_DIR) {
    const name = new URL(url).pathname.replace(/\W+/g, '') || 'feed';
    await mkdir(process.env.BENCH_WEB_LHR_DIR, { recursive: true });
    await writeFile(join(process.env.BENCH_WEB_LHR_DIR, `lighthouse-${name}.json`), JSON.stringify(lhr));
  }
  if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.message}`);
  const score = (id: string) => Math.round((lhr.categories[id]?.score ?? 0) * 100);
  const numeric = (id: string) => Math.round(lhr.audits[id]?.numericValue ?? Number.NaN);
  const flagged = new Set<string>();
  for (const id of CATEGORIES) {
    for (const ref of lhr.categories[id]?.auditRefs ?? []) {
      const audit = lhr.audits[ref.id];
      if (!audit || ref.weight === 0 || audit.score === null || audit.score >= 0.9) continue;
      flagged.add(`${ref.id} (${Math.round(audit.score * 100)})`);
    }
  }
  return {
    scores: {
      performance: score('performance'),
      accessibility: score('accessibility'),
      'best-practices': score('best-practices'),
    },
    metrics: {
      fcpMs: numeric('first-contentful-paint'),
      lcpMs: numeric('largest-contentful-paint'),
      tbtMs: numeric('total-blocking-time'),
      cls: Math.round((lhr.audits['cumulative-layout-shift']?.numericValue ?? Number.NaN) * 1000) / 1000,
    },
    flagged: [...flagged],
  };
}

async function seedUser(base: string) {
  const username = `lh_${Date.now().toString(36)}`;
  const password = 'lighthouse seeded user';
  const signup = await fetch(`${base}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username,
      email: `${username}@example.com`,
      password,
      displayName: 'Lighthouse Reader',
    }),
  });
  if (!signup.ok) throw new Error(`sign-up: ${signup.status} ${await signup.text()}`);
  const { accessToken } = (await signup.json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
  for (let i = 1; i <= SEEDED_POSTS; i++) {
    const res = await fetch(`${base}/api/v1/posts`, {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        text: `Post ${i} of the seeded feed, about #kith and #bench, with a link https://example.org/${i} and enough words to wrap over a few lines on a phone.`,
        visibility: 'friends',
      }),
    });
    if (!res.ok) throw new Error(`post: ${res.status} ${await res.text()}`);
  }
  // fan-out is a job: wait for the author's own feed to hold every post
  for (let tries = 0; ; tries++) {
    const res = await fetch(`${base}/api/v1/feed?limit=50`, { headers: auth });
    const { items } = (await res.json()) as { items: unknown[] };
    if (items.length >= SEEDED_POSTS) break;
    if (tries > 600) throw new Error(`the seeded feed has ${items.length} of ${SEEDED_POSTS} posts`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { username, password };
}

/** INP (the longest event duration of one interaction), from Event Timing entries in the page. */
const OBSERVE_INTERACTIONS = () => {
  const w = window as unknown as { __inp: Map<number, number> };
  w.__inp = new Map();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { interactionId?: number })[]) {
      if (!e.interactionId) continue;
      w.__inp.set(e.interactionId, Math.max(w.__inp.get(e.interactionId) ?? 0, e.duration));
    }
  }).observe({ type: 'event', durationThreshold: 16, buffered: true } as PerformanceObserverInit);
};
const TAKE_INP = () => {
  const w = window as unknown as { __inp: Map<number, number> };
  const worst = Math.max(0, ...w.__inp.values());
  w.__inp.clear();
  return worst;
};

/**
 * The page's layout shifts so far (buffered entries), each with what moved: a string of code, so
 * that no bundler helper ends up in the page.
 */
const LAYOUT_SHIFTS = `new Promise((resolve) => {
  const name = (node) => {
    const el = node instanceof Element ? node : node?.parentElement;
    if (!el) return String(node?.nodeName);
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    return el.tagName.toLowerCase() + cls + ' "' + (el.textContent || '').trim().slice(0, 24) + '"';
  };
  const rect = (r) => Math.round(r.x) + ',' + Math.round(r.y) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height);
  new PerformanceObserver((list) => {
    resolve(list.getEntries().map((e) => e.value.toFixed(4) + ' at ' + Math.round(e.startTime) + ' ms: ' +
      (e.sources || []).map((s) => name(s.node) + ' ' + rect(s.previousRect) + ' -> ' + rect(s.currentRect)).join('; ')));
  }).observe({ type: 'layout-shift', buffered: true });
  setTimeout(() => resolve([]), 1000);
})`;

/** Starts Kith on a fresh database, seeds a reader, audits, and stops everything it started. */
export async function auditWebApp(): Promise<AuditResult> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-web-'));
  const db = await createBenchDatabase();
  const port = await freePort();
  const kith = await startNode({
    what: 'Kith',
    script: SERVER_MAIN,
    cwd: join(SERVER_MAIN, '../..'),
    port,
    env: {
      ...productionEnv(db.url, port, join(dir, 'data')),
      KITH_ROLES: 'api,realtime,worker',
      // the seeded reader is not e-mail-verified: let it write its 30 posts
      RATE_LIMIT_UNVERIFIED_PER_HOUR: '1000',
    },
    readyPath: '/readyz',
    logFile: join(dir, 'kith.log'),
  });
  // one Chromium for Lighthouse (over its debugging port) and Playwright (connected over CDP):
  // the sign-in made through Playwright is the cookie Lighthouse's tab sends
  const debugPort = await freePort();
  const browserProcess = spawn(
    CHROMIUM,
    [
      '--headless=new',
      `--remote-debugging-port=${debugPort}`,
      `--user-data-dir=${join(dir, 'profile')}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      'about:blank',
    ],
    { stdio: 'ignore' },
  );
  const browserExited = new Promise((resolve) => browserProcess.once('exit', resolve));
  let browser: Awaited<ReturnType<typeof chromium.connectOverCDP>> | undefined;
  try {
    for (let tries = 0; !browser; tries++) {
      try {
        browser = await chromium.connectOverCDP(`http://127.0.0.1:${debugPort}`);
      } catch (error) {
        if (tries > 100) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const context = browser.contexts()[0]!;
    // the browser's secure context for the Secure refresh cookie is localhost
    const base = `http://localhost:${port}`;
    const reader = await seedUser(`http://127.0.0.1:${port}`);
    const login = await runLighthouse(`${base}/login`, debugPort);

    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/login`);
    await page.fill('input[name="login"]', reader.username);
    await page.fill('input[name="password"]', reader.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[role="feed"] article');
    const feed = await runLighthouse(`${base}/`, debugPort);

    // the scripted session, with the CPU slowed as Lighthouse's mobile preset does
    await page.setViewportSize({ width: 412, height: 823 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    await page.goto(`${base}/`);
    await page.waitForSelector('[role="feed"] article');
    await page.waitForLoadState('networkidle');
    const feedShifts = (await page.evaluate(LAYOUT_SHIFTS)) as string[];
    await page.evaluate(OBSERVE_INTERACTIONS);
    await page.click('[role="feed"] article a[href^="/posts/"]');
    await page.waitForSelector('.reactions button');
    const openPostMs = await page.evaluate(TAKE_INP);
    await page.click('.reactions button:first-of-type');
    await page.waitForSelector('.reactions button[aria-pressed="true"]');
    const reactMs = await page.evaluate(TAKE_INP);
    // the baseline: a bare page's button, same browser, same throttling
    await page.goto('about:blank');
    await page.setContent('<button type="button" onclick="this.textContent=\'done\'">go</button>');
    await page.evaluate(OBSERVE_INTERACTIONS);
    await page.click('button');
    await page.waitForFunction(() => document.querySelector('button')?.textContent === 'done');
    const bareButtonMs = await page.evaluate(TAKE_INP);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    return { login, feed, inp: { openPostMs, reactMs, bareButtonMs }, feedShifts };
  } finally {
    await browser?.close();
    browserProcess.kill('SIGTERM');
    await browserExited;
    await kith.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
