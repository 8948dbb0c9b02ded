import { Secret, TOTP } from 'otpauth';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickText, PASSWORD, signUp, submitLogin } from './support/accounts.ts';
import { axeViolations } from './support/axe.ts';
import { CHROMIUM, type E2EPage, hasChromium, hasFirefox, launchFirefox } from './support/browsers.ts';
import { type RunningKith, startKith } from './support/kith.ts';

// Two-factor sign-in in real browsers: TOTP enrolment from the QR screen's key (codes computed here
// with otpauth), sign-in with password + code, a passkey enrolled on Chromium's virtual
// authenticator (CDP WebAuthn domain) and a password-less sign-in with it. axe on every new screen.

const PERIOD_MS = 30_000;

let kith: RunningKith;
let url: string;
beforeAll(async () => {
  if (!hasChromium && !hasFirefox) return;
  // WebAuthn needs a domain (not an IP) as RP id, and PUBLIC_URL must be the origin the browser sees
  kith = await startKith({}, { publicUrl: true });
  url = kith.url;
}, 120_000);
afterAll(async () => {
  await kith?.stop();
});

/** The code of the 30 s step `offset` steps from now. */
const code = (secret: string, offset = 0) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + offset * PERIOD_MS });

async function expectAxeClean(page: E2EPage, screen: string) {
  expect(await axeViolations(page), screen).toEqual([]);
}

const passwordLogin = (page: E2EPage, username: string) => submitLogin(page, url, username);

async function logOut(page: E2EPage) {
  await clickText(page, 'button', 'Log out');
  await page.waitFor('a[href="/login"]');
}

/** Enrols TOTP from the settings screen; returns the secret shown and the recovery codes. */
async function enrolTotp(page: E2EPage): Promise<{ secret: string; codes: string[] }> {
  await page.goto(`${url}/settings`);
  await page.waitFor('button', 'Set up an authenticator app');
  await page.fill('input[name="setup-password"]', PASSWORD);
  await clickText(page, 'button', 'Set up an authenticator app');
  await page.waitFor('svg.qr-code');
  await page.waitFor('[data-testid="totp-secret"]');
  const secret = await page.evaluate(
    () => document.querySelector('[data-testid="totp-secret"]')?.textContent ?? '',
    undefined,
  );
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await expectAxeClean(page, 'totp setup');
  await page.fill('input[name="code"]', code(secret));
  await clickText(page, 'button[type="submit"]', 'Turn on');
  await page.waitFor('.recovery-codes li');
  const codes = await page.evaluate(
    () => [...document.querySelectorAll('.recovery-codes code')].map((c) => c.textContent ?? ''),
    undefined,
  );
  expect(codes).toHaveLength(10);
  await expectAxeClean(page, 'recovery codes');
  await clickText(page, 'button', 'I have saved my codes');
  await page.waitFor('p', 'recovery codes left');
  await expectAxeClean(page, 'security settings with 2FA on');
  return { secret, codes };
}

/** Logs in with password and then the app's code; the code is the next step's (the enrolment used this one). */
async function loginWithCode(page: E2EPage, username: string, secret: string) {
  await passwordLogin(page, username);
  await page.waitFor('h1', 'Two-step verification');
  await expectAxeClean(page, 'second-factor step');
  await page.fill('input[name="code"]', code(secret, 1));
  await clickText(page, 'button[type="submit"]', 'Verify');
  await page.waitFor('button', 'Log out');
}

/** A Chromium page over playwright-core with its CDP session (the WebAuthn domain). */
async function chromiumPage(browser: Browser): Promise<{ page: E2EPage; raw: Page; cdp: CDPSession }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const raw = await context.newPage();
  const cdp = await context.newCDPSession(raw);
  const page = {
    problems: [],
    goto: async (to: string) => {
      await raw.goto(to, { waitUntil: 'load' });
    },
    fill: (s: string, t: string) => raw.fill(s, t),
    click: (s: string) => raw.click(s),
    waitFor: async (s: string, text?: string, timeout = 15_000) => {
      await raw.waitForFunction(
        ([sel, txt]) =>
          [...document.querySelectorAll(sel)].some(
            (el) => txt === undefined || (el.textContent ?? '').includes(txt),
          ),
        [s, text] as [string, string | undefined],
        { timeout },
      );
    },
    evaluate: (fn: never, arg: never) => raw.evaluate(fn, arg),
    evaluateSource: async (source: string) => {
      await raw.evaluate(`${source}\n;undefined`);
    },
    close: () => context.close(),
  } as unknown as E2EPage;
  return { page, raw, cdp };
}

describe.skipIf(!hasChromium)('chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('TOTP: enrol, log out, log in with password + code; passkey: enrol, answer the second step, log in with it alone', async () => {
    const { username } = await signUp(url, 'c2fa');
    const { page, cdp } = await chromiumPage(browser);
    try {
      await passwordLogin(page, username);
      await page.waitFor('button', 'Log out');
      const { secret } = await enrolTotp(page);
      await logOut(page);
      await loginWithCode(page, username, secret);

      // a virtual platform authenticator: resident keys, user verification, presence simulated
      await cdp.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      await page.goto(`${url}/settings`);
      await page.waitFor('button', 'Add a passkey');
      await page.fill('input[placeholder="My passkey"]', 'Test laptop');
      await page.fill('input[name="passkey-password"]', PASSWORD);
      await clickText(page, 'button[type="submit"]', 'Add a passkey');
      await page.waitFor('ul.people li strong', 'Test laptop');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.isResidentCredential).toBe(true);
      await expectAxeClean(page, 'security settings with a passkey');

      // the passkey answers the second step after the password
      await logOut(page);
      await passwordLogin(page, username);
      await page.waitFor('h1', 'Two-step verification');
      await clickText(page, 'button', 'Use a passkey instead');
      await page.waitFor('button', 'Log out');

      // and signs in alone, with no password
      await logOut(page);
      await page.goto(`${url}/login`);
      await clickText(page, 'button', 'Sign in with a passkey');
      await page.waitFor('button', 'Log out');
      const me = await page.evaluate(async () => {
        const res = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          headers: { 'x-kith-csrf': '1' },
        });
        return res.status;
      }, undefined);
      expect(me).toBe(200);
    } finally {
      await page.close();
    }
  }, 180_000);
});

describe.skipIf(!hasFirefox)('firefox', () => {
  it('TOTP: enrol, log out, log in with password + code', async () => {
    const browser = await launchFirefox();
    const page = await browser.newPage();
    try {
      const { username } = await signUp(url, 'f2fa');
      await passwordLogin(page, username);
      await page.waitFor('button', 'Log out');
      const { secret } = await enrolTotp(page);
      await logOut(page);
      await loginWithCode(page, username, secret);
    } finally {
      await page.close();
      await browser.close();
    }
  }, 180_000);
});
