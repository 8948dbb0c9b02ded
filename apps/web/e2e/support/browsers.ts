import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '../../artifacts');

export type ColorScheme = 'light' | 'dark';

/** The little of a page the journeys need, the same over Playwright (Chromium) and Puppeteer (Firefox). */
export interface E2EPage {
  goto(url: string): Promise<void>;
  fill(selector: string, text: string): Promise<void>;
  click(selector: string): Promise<void>;
  press(key: string): Promise<void>;
  upload(selector: string, path: string): Promise<void>;
  waitFor(selector: string, text?: string, timeoutMs?: number): Promise<void>;
  evaluate<T, A>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  /** Evaluates a script's source in the page's main world, by the driver (not subject to the CSP). */
  evaluateSource(source: string): Promise<void>;
  screenshot(path: string): Promise<void>;
  viewport(width: number, height: number): Promise<void>;
  colorScheme(scheme: ColorScheme): Promise<void>;
  /** Drags with the mouse from the centre of one element to the centre of another, in steps. */
  drag(from: string, to: string): Promise<void>;
  /** Makes this the foreground tab: a background tab's animation frames are throttled (Firefox). */
  bringToFront(): Promise<void>;
  /** Cuts (true) or restores (false) this page's network, its service worker's fetches included. */
  setOffline(on: boolean): Promise<void>;
  /** Reloads the page and waits for its load event. */
  reload(): Promise<void>;
  /** Waits until `fn(arg)` is truthy (or resolves truthy) in the page. */
  /**
   * Waits until `fn`, run in the page, returns something truthy. `fn` must be synchronous: Chromium
   * (Playwright's waitForFunction) takes a returned promise as truthy at once, so the type refuses one.
   */
  waitUntil<A>(fn: (arg: A) => Synchronous, arg: A, timeoutMs?: number): Promise<void>;
  /** Console errors and warnings, and CSP violation events, in order. */
  problems: string[];
  close(): Promise<void>;
}

/** What a waitUntil predicate may return: never a promise. */
type Synchronous = boolean | string | number | null | undefined | Element;

export interface E2EBrowser {
  name: 'chromium' | 'firefox';
  newPage(): Promise<E2EPage>;
  close(): Promise<void>;
}

export const CHROMIUM = '/usr/bin/chromium';
export const FIREFOX = '/usr/bin/firefox-esr';
export const hasChromium = existsSync(CHROMIUM);
export const hasFirefox = existsSync(FIREFOX);

/** Runs in every document before its own scripts: records CSP violations (not blocked by the CSP). */
function watchViolations() {
  const w = window as unknown as { __cspViolations: string[] };
  w.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    w.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
}

/** The centres of the first elements matching two selectors, in CSS pixels of the viewport. */
const centres = ([from, to]: [string, string]) =>
  [from, to].map((s) => {
    const r = document.querySelector(s)?.getBoundingClientRect();
    if (!r) throw new Error(`no ${s}`);
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });

const containsText = ([selector, text]: [string, string | undefined]) =>
  [...document.querySelectorAll(selector)].some(
    (el) => text === undefined || (el.textContent ?? '').includes(text),
  );

export async function launchChromium(): Promise<E2EBrowser> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  return {
    name: 'chromium',
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.addInitScript(watchViolations);
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
        upload: (s, path) => page.setInputFiles(s, path),
        waitFor: async (s, text, timeout = 15_000) => {
          await page.waitForFunction(containsText, [s, text] as [string, string | undefined], { timeout });
        },
        evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
        evaluateSource: async (source) => {
          await page.evaluate(`${source}\n;undefined`);
        },
        screenshot: async (path) => {
          await mkdir(dirname(path), { recursive: true });
          await page.screenshot({ path, fullPage: false });
        },
        viewport: (width, height) => page.setViewportSize({ width, height }),
        colorScheme: (scheme) => page.emulateMedia({ colorScheme: scheme }),
        drag: async (from, to) => {
          const [a, b] = await page.evaluate(centres, [from, to] as [string, string]);
          await page.mouse.move(a!.x, a!.y);
          await page.mouse.down();
          await page.mouse.move(b!.x, b!.y, { steps: 10 });
          await page.mouse.up();
        },
        bringToFront: () => page.bringToFront(),
        // context-wide in Playwright: the page's service worker is offline too
        setOffline: (on) => context.setOffline(on),
        reload: async () => {
          await page.reload({ waitUntil: 'load' });
        },
        waitUntil: async (fn, arg, timeout = 30_000) => {
          await page.waitForFunction(fn as never, arg, { timeout });
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

export async function launchFirefox(): Promise<E2EBrowser> {
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    protocol: 'webDriverBiDi',
    headless: true,
  });
  return {
    name: 'firefox',
    async newPage() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      await page.evaluateOnNewDocument(watchViolations);
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`);
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
        upload: async (s, path) => {
          const input = await page.$(s);
          if (!input) throw new Error(`no ${s}`);
          await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(path);
        },
        waitFor: async (s, text, timeout = 15_000) => {
          await page.waitForFunction(containsText, { timeout, polling: 50 }, [s, text] as [
            string,
            string | undefined,
          ]);
        },
        evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
        evaluateSource: async (source) => {
          await page.evaluate(`${source}\n;undefined`);
        },
        screenshot: async (path) => {
          await mkdir(dirname(path), { recursive: true });
          await page.screenshot({ path: path as `${string}.png` });
        },
        viewport: (width, height) => page.setViewport({ width, height }),
        // WebDriver BiDi cannot emulate prefers-color-scheme yet: pin the theme as the toggle does
        colorScheme: async (scheme) => {
          await page.evaluate((value: string) => {
            document.documentElement.setAttribute('data-theme', value);
            localStorage.setItem('kith.theme', value);
          }, scheme);
        },
        drag: async (from, to) => {
          const [a, b] = await page.evaluate(centres, [from, to] as [string, string]);
          await page.mouse.move(a!.x, a!.y);
          await page.mouse.down();
          await page.mouse.move(b!.x, b!.y, { steps: 10 });
          await page.mouse.up();
        },
        bringToFront: () => page.bringToFront(),
        // WebDriver BiDi network emulation of the page's browsing context
        setOffline: (on) => page.setOfflineMode(on),
        reload: async () => {
          await page.reload({ waitUntil: 'load' });
        },
        waitUntil: async (fn, arg, timeout = 30_000) => {
          await page.waitForFunction(fn as never, { timeout, polling: 50 }, arg);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}
