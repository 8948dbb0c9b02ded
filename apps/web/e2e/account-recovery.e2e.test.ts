import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../server/test/helpers/wait.ts';
import { clickText, submitLogin } from './support/accounts.ts';
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

// Account recovery in real browsers against a real Kith: the mail comes from the embedded outbox
// (.eml files under the server's DATA_DIR/mail, named by its log), as a person would read it.
// Sign-up → verify banner → the link → banner gone; e-mail change → confirm link → settings show
// the new address; forgot password → reset link → the new password works, the old one does not.

const engines = [
  { name: 'chromium', present: hasChromium, launch: launchChromium },
  { name: 'firefox', present: hasFirefox, launch: launchFirefox },
] as const;

const OLD_PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a completely different passphrase';

let kith: RunningKith;
beforeAll(async () => {
  if (!engines.some((e) => e.present)) return;
  kith = await startKith();
}, 120_000);
afterAll(async () => {
  await kith?.stop();
});

/** Console noise that is not a problem of the app: the browser's line for an expected 4xx. */
const benign = (line: string) => /Failed to load resource|status of 40[013]/.test(line);

const parsed = new Map<string, { to: string; text: string }>();
/**
 * The path and query of the link to `path` in the newest mail to `to` written to the outbox (the
 * server logs each file it writes; the files are parsed as RFC 5322 messages).
 */
async function mailedLink(to: string, path: string): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s/]+(${path.replace('/', '\\/')}\\?token=[A-Za-z0-9_-]+)`);
  let found: string | undefined;
  await until(
    async () => {
      const files = kith.server.logs
        .filter((l) => l.msg === 'mail written to the local outbox')
        .map((l) => String(l.mail_path));
      for (const file of files) {
        if (!parsed.has(file)) {
          const mail = await simpleParser(await readFile(file));
          const address = Array.isArray(mail.to) ? mail.to[0] : mail.to;
          parsed.set(file, { to: address?.value[0]?.address ?? '', text: mail.text ?? '' });
        }
      }
      const hits = files
        .map((f) => parsed.get(f))
        .filter((m) => m?.to === to)
        .map((m) => pattern.exec(m?.text ?? '')?.[1])
        .filter(Boolean);
      found = hits.at(-1);
      return found !== undefined;
    },
    { what: `a mail to ${to} with a ${path} link`, timeoutMs: 30_000, intervalMs: 100 },
  );
  return found as string;
}

const present = (page: E2EPage, selector: string) =>
  page.evaluate((s) => document.querySelector(s) !== null, selector);

const logIn = (page: E2EPage, login: string, password: string) =>
  submitLogin(page, kith.url, login, password);

describe.each(engines)('$name', ({ name, present: installed, launch }) => {
  let browser: E2EBrowser;
  beforeAll(async () => {
    if (installed) browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(!installed)(
    'verifies the address from the mail, changes it, and resets a forgotten password',
    async () => {
      const page = await browser.newPage();
      const username = `${name.slice(0, 2)}_rec_${Date.now().toString(36)}`;
      const email = `${username}@example.com`;
      const newEmail = `${username}@example.net`;
      try {
        // sign up: the banner says the address is not confirmed and what is limited until it is
        await page.goto(`${kith.url}/signup`);
        await page.waitFor('h1', 'Create your Kith account');
        await page.fill('input[name="username"]', username);
        await page.fill('input[name="email"]', email);
        await page.fill('input[name="password"]', OLD_PASSWORD);
        await page.click('button[type="submit"]');
        await page.waitFor('h1', 'Home');
        await page.waitFor('.verify-banner', 'limited number of posts');
        await checkScreen(page, name, 'verify-banner');

        // the link from the mail: confirmed on arrival; the banner is gone, here and after a reload
        await page.goto(`${kith.url}${await mailedLink(email, '/verify-email')}`);
        await page.waitFor('[role="status"]', 'Your e-mail address is confirmed');
        await checkScreen(page, name, 'verify-email');
        expect(await present(page, '.verify-banner')).toBe(false);
        await page.goto(`${kith.url}/settings`);
        await page.waitFor('.email-state', 'Confirmed');
        expect(await present(page, '.verify-banner')).toBe(false);

        // change the address: the link goes to the new inbox; once opened, settings show it
        await page.fill('input[name="email"]', newEmail);
        await page.fill('input[name="password"][autocomplete="current-password"]', OLD_PASSWORD);
        await clickText(page, 'button[type="submit"]', 'Change the address');
        await page.waitFor('[role="status"]', `We sent a link to ${newEmail}`);
        await page.goto(`${kith.url}${await mailedLink(newEmail, '/confirm-email-change')}`);
        await page.waitFor('[role="status"]', `Your e-mail address is now ${newEmail}`);
        await clickText(page, 'a', 'Go to your settings');
        await page.waitFor('[data-testid="current-email"]', newEmail);

        // forgot password, from the login screen
        await clickText(page, 'button', 'Log out');
        await page.waitFor('a[href="/login"]');
        await page.goto(`${kith.url}/login`);
        await clickText(page, 'a', 'Forgot your password?');
        await page.waitFor('h1', 'Reset your password');
        await checkScreen(page, name, 'forgot-password');
        await page.fill('input[name="login"]', username);
        await clickText(page, 'button[type="submit"]', 'Send the link');
        await page.waitFor('h1', 'Check your inbox');
        expect(await axeViolations(page), 'forgot-password sent').toEqual([]);

        await page.goto(`${kith.url}${await mailedLink(newEmail, '/reset-password')}`);
        await page.waitFor('h1', 'Choose a new password');
        await page.fill('input[name="password"]', NEW_PASSWORD);
        await page.fill('input[name="confirm"]', NEW_PASSWORD);
        await page.waitFor('.rules .rule.met', 'Both fields the same');
        await checkScreen(page, name, 'reset-password');
        await page.click('button[type="submit"]');
        await page.waitFor('h1', 'Your password is changed');
        expect(await axeViolations(page), 'reset-password done').toEqual([]);

        // the old password is refused, the new one signs in
        await logIn(page, username, OLD_PASSWORD);
        await page.waitFor('[role="alert"]');
        await logIn(page, username, NEW_PASSWORD);
        await page.waitFor('h1', 'Home');
        expect(page.problems.filter((p) => !benign(p))).toEqual([]);
      } finally {
        await page.close();
      }
    },
    180_000,
  );
});
