import pg from 'pg';
import { expect } from 'vitest';
import type { E2EPage } from './browsers.ts';

/** The password of every account these helpers make. */
export const PASSWORD = 'correct horse battery staple';

export interface Account {
  username: string;
  email: string;
  /** An access token, for setting the scene through the API. */
  token: string;
}

/** A fresh account made through the API (the scene, not the subject): `<prefix>_<random>`. */
export async function signUp(url: string, prefix: string): Promise<Account> {
  const username = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const email = `${username}@example.com`;
  const res = await fetch(`${url}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, email, password: PASSWORD }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return { username, email, token: (await res.json()).accessToken };
}

/** A role given the way an operator would without the UI: one SQL statement. */
export async function setRole(databaseUrl: string, username: string, role: 'moderator' | 'admin') {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('UPDATE users SET role = $1 WHERE username = $2', [role, username]);
  } finally {
    await client.end();
  }
}

/** Fills and sends the login form (what follows — Home, a second step, an error — is the caller's). */
export async function submitLogin(page: E2EPage, url: string, login: string, password = PASSWORD) {
  await page.goto(`${url}/login`);
  await page.waitFor('h1', 'Log in').catch(async (err) => {
    throw new Error(`no login screen: ${await pageText(page)}`, { cause: err });
  });
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
}

/** Logs in with the password and waits for Home (saying what the page shows when it does not come). */
export async function logIn(page: E2EPage, url: string, login: string, password = PASSWORD) {
  await submitLogin(page, url, login, password);
  await page.waitFor('h1', 'Home').catch(async (err) => {
    throw new Error(`not signed in: ${await pageText(page)}`, { cause: err });
  });
}

/** Clicks the first element matching the selector whose text contains `text` (both engines). */
export async function clickText(page: E2EPage, selector: string, text: string): Promise<void> {
  await page.waitFor(selector, text).catch(async (err) => {
    throw new Error(`no ${selector} "${text}" on: ${await pageText(page)}`, { cause: err });
  });
  const clicked = await page.evaluate(
    ([s, t]) => {
      const el = [...document.querySelectorAll<HTMLElement>(s)].find((e) => e.textContent?.includes(t));
      el?.click();
      return Boolean(el);
    },
    [selector, text] as [string, string],
  );
  expect(clicked, `${selector} "${text}"`).toBe(true);
}

/** The page's address, visible text (the start) and console problems, for a failure's message. */
async function pageText(page: E2EPage): Promise<string> {
  const text = await page
    .evaluate(() => `${location.href}\n${document.body.innerText}`, undefined)
    .catch((err: unknown) => `(unreadable: ${String(err)})`);
  return `${text.slice(0, 800)}\n${page.problems.join(' | ')}`;
}
