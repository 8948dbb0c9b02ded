import { CHROMIUM, FIREFOX } from './browsers.ts';

/** A page as the realtime tests drive it, the same over Playwright (Chromium) and Puppeteer (Firefox). */
export interface Tab {
  goto(url: string): Promise<void>;
  fill(selector: string, text: string): Promise<void>;
  click(selector: string): Promise<void>;
  press(key: string): Promise<void>;
  /** Types text key by key into whatever has focus. */
  type(text: string): Promise<void>;
  /** Brings the tab to the front (the visible one of its window). */
  focus(): Promise<void>;
  /** Waits until `fn(arg)` is truthy in the page. */
  waitUntil<A>(fn: (arg: A) => unknown, arg: A, timeoutMs?: number): Promise<void>;
  evaluate<T, A>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  evaluateSource(source: string): Promise<void>;
  problems: string[];
  close(): Promise<void>;
}

/** One browser profile (cookies, storage, Web Locks, BroadcastChannel shared by its tabs). */
export interface Profile {
  newTab(): Promise<Tab>;
  close(): Promise<void>;
}

export interface TabsBrowser {
  newProfile(): Promise<Profile>;
  close(): Promise<void>;
}

export async function tabsChromium(): Promise<TabsBrowser> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  return {
    async newProfile() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      return {
        async newTab() {
          const page = await context.newPage();
          page.setDefaultTimeout(60_000); // a loaded CI box: patience, not a threshold
          const problems: string[] = [];
          page.on('console', (m) => {
            if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
          });
          page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
          return {
            problems,
            goto: async (url) => {
              await page.goto(url, { waitUntil: 'load' });
            },
            fill: (s, t) => page.fill(s, t),
            click: (s) => page.click(s),
            press: (k) => page.keyboard.press(k),
            type: (text) => page.keyboard.type(text),
            focus: () => page.bringToFront(),
            waitUntil: async (fn, arg, timeout = 45_000) => {
              await page.waitForFunction(fn as never, arg, { timeout });
            },
            evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
            evaluateSource: async (source) => {
              await page.evaluate(`${source}\n;undefined`);
            },
            close: () => page.close({ runBeforeUnload: false }),
          };
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

export async function tabsFirefox(): Promise<TabsBrowser> {
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    protocol: 'webDriverBiDi',
    headless: true,
  });
  return {
    async newProfile() {
      const context = await browser.createBrowserContext();
      return {
        async newTab() {
          const page = await context.newPage();
          await page.setViewport({ width: 1280, height: 800 });
          page.setDefaultTimeout(60_000); // a loaded CI box: patience, not a threshold
          const problems: string[] = [];
          page.on('console', (m) => {
            if (m.type() !== 'error' && m.type() !== 'warn') return;
            // an Error argument prints as "JSHandle@error": read its message instead
            void Promise.all(
              m
                .args()
                .map((arg) =>
                  arg.evaluate((v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : String(v))),
                ),
            ).then(
              (parts) => problems.push(`${m.type()}: ${parts.join(' ')}`),
              () => problems.push(`${m.type()}: ${m.text()}`),
            );
          });
          page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
          return {
            problems,
            goto: async (url) => {
              await page.goto(url, { waitUntil: 'load' });
            },
            fill: async (s, t) => {
              await page.locator(s).fill(t);
            },
            click: async (s) => {
              await page.locator(s).click();
            },
            press: async (k) => {
              await page.keyboard.press(k as never);
            },
            type: async (text) => {
              await page.keyboard.type(text);
            },
            focus: () => page.bringToFront(),
            waitUntil: async (fn, arg, timeout = 45_000) => {
              await page.waitForFunction(fn as never, { timeout, polling: 50 }, arg);
            },
            evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
            evaluateSource: async (source) => {
              await page.evaluate(`${source}\n;undefined`);
            },
            close: () => page.close(),
          };
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}
