import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Account, clickText, logIn, setRole, signUp } from './support/accounts.ts';
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

// Reports and moderation in real browsers: a user reports a post through the report dialog
// (Esc closes it, focus comes back), a moderator (promoted in SQL) finds it in the queue, reads
// the note as text and removes the post; the reporter and the author get their notifications
// (made by the server's own worker). The author appeals, another moderator overturns, the post is
// back; then a suspension, which the author sees explained in a banner on every screen. axe on the
// dialog, the queue, the case screens and the banner.

const NOTE = '<b>bold</b> & <img src=x onerror=alert(1)>';

let kith: RunningKith;
beforeAll(async () => {
  if (!hasChromium && !hasFirefox) return;
  // PUBLIC_URL: the links of notices and mail point at the server the browser uses
  kith = await startKith({}, { publicUrl: true });
}, 120_000);
afterAll(async () => {
  await kith?.stop();
});

async function publicPost(author: Account, text: string): Promise<string> {
  const res = await fetch(`${kith.url}/api/v1/posts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${author.token}` },
    body: JSON.stringify({ text, visibility: 'public' }),
  });
  expect(res.status).toBe(201);
  return (await res.json()).id;
}

async function userId(account: Account): Promise<string> {
  const res = await fetch(`${kith.url}/api/v1/me`, { headers: { authorization: `Bearer ${account.token}` } });
  return (await res.json()).id;
}

/** Waits until no modal dialog is open (the page's own state, polled; no fixed delay). */
async function waitDialogClosed(page: E2EPage): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (await page.evaluate(() => document.querySelector('dialog[open]') !== null, undefined)) {
    if (Date.now() > deadline) throw new Error('the dialog did not close');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function expectAxeClean(page: E2EPage, screen: string) {
  expect(await axeViolations(page), screen).toEqual([]);
}

async function journey(browser: E2EBrowser): Promise<void> {
  const url = kith.url;
  const [author, reporter, moderator, moderator2] = [
    await signUp(url, 'author'),
    await signUp(url, 'rep'),
    await signUp(url, 'mod'),
    await signUp(url, 'mod2'),
  ];
  await setRole(kith.databaseUrl, moderator.username, 'moderator');
  await setRole(kith.databaseUrl, moderator2.username, 'moderator');
  const postId = await publicPost(author, `Buy followers cheap at spam.example ${browser.name}`);
  const pages: E2EPage[] = [];
  const open = async () => {
    const page = await browser.newPage();
    pages.push(page);
    return page;
  };
  try {
    // the reporter: the dialog opens from the post, Esc closes it and focus returns, then a report
    const rp = await open();
    await logIn(rp, url, reporter.username);
    await rp.goto(`${url}/posts/${postId}`);
    await clickText(rp, 'button[aria-haspopup="dialog"]', 'Report');
    await rp.waitFor('dialog[open] h2', 'Report this post');
    await rp.waitFor('dialog[open] input[name="reason"]');
    await expectAxeClean(rp, 'report dialog');
    await rp.press('Escape');
    await waitDialogClosed(rp);
    expect(await rp.evaluate(() => document.activeElement?.textContent ?? '', undefined)).toBe('Report');
    await clickText(rp, 'button[aria-haspopup="dialog"]', 'Report');
    await rp.waitFor('dialog[open] input[value="spam"]');
    await rp.click('dialog[open] input[value="spam"]');
    await rp.fill('dialog[open] textarea[name="note"]', NOTE);
    await rp.click('dialog[open] button[type="submit"]');
    await rp.waitFor('dialog[open] [role="status"]', 'Thank you');
    await expectAxeClean(rp, 'report dialog, sent');
    await clickText(rp, 'dialog[open] button', 'Close');
    await waitDialogClosed(rp);

    // the moderator: staff screen → queue → case; the note is text; remove the post
    const mp = await open();
    await logIn(mp, url, moderator.username);
    await mp.goto(`${url}/staff`);
    await clickText(mp, 'a', 'Moderation queue');
    await mp.waitFor('h1', 'Moderation queue');
    await mp.waitFor('.moderation-item a', `@${author.username}`);
    await expectAxeClean(mp, 'moderation queue');
    await clickText(mp, '.moderation-item a', `@${author.username}`);
    await mp.waitFor('h1', 'Report case');
    await mp.waitFor('.moderation-text', '<b>bold</b>');
    const rendered = await mp.evaluate(
      () => ({
        markup: document.querySelector('main b, main img[src="x"]') !== null,
        text: [...document.querySelectorAll('.moderation-text')].map((e) => e.textContent),
      }),
      undefined,
    );
    expect(rendered.markup).toBe(false);
    expect(rendered.text).toContain('<b>bold</b> & <img src=x onerror=alert(1)>');
    await expectAxeClean(mp, 'report case');
    await mp.click('input[name="action"][value="remove"]');
    await mp.fill('form textarea', 'Spam is not allowed on Kith.');
    await clickText(mp, 'button[type="submit"]', 'Decide');
    await mp.waitFor('h2', 'Decision');
    await mp.waitFor('p', 'Remove the content');

    // both are told, by the server's worker: the reporter the outcome, the author what and why
    await rp.goto(`${url}/notifications`);
    await rp.waitFor('.notification-text', 'you reported was reviewed and action was taken', 30_000);
    const ap = await open();
    await logIn(ap, url, author.username);
    await ap.goto(`${url}/notifications`);
    await ap.waitFor('.notification-text a', 'A moderator removed your post', 30_000);
    await clickText(ap, '.notification-text a', 'A moderator removed your post');
    await ap.waitFor('h1', 'A moderation decision');
    await ap.waitFor('.moderation-text', 'Spam is not allowed on Kith.');
    await ap.waitFor('button[type="submit"]', 'Send appeal');

    // the author appeals; another moderator overturns the removal: the post is back
    await ap.bringToFront();
    await ap.fill('form textarea', 'It was a joke between friends.');
    await clickText(ap, 'button[type="submit"]', 'Send appeal');
    await ap.waitFor('[role="status"]', 'Your appeal is waiting for another moderator');
    const mp2 = await open();
    await logIn(mp2, url, moderator2.username);
    await mp2.goto(`${url}/moderation`);
    await clickText(mp2, '.moderation-item a', `Post by @${author.username}`);
    await mp2.waitFor('h1', 'Report case');
    await mp2.click('input[name="action"][value="overturn"]');
    await mp2.fill('form textarea', 'A joke, not spam.');
    await clickText(mp2, 'button[type="submit"]', 'Decide');
    await mp2.waitFor('p', 'Overturn the decision');
    await ap.goto(`${url}/posts/${postId}`);
    await ap.waitFor('main', `Buy followers cheap at spam.example ${browser.name}`);

    // a suspension: the author sees why on every screen (role=status), with the decision's link
    const reported = await fetch(`${url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${reporter.token}` },
      body: JSON.stringify({ targetType: 'user', targetId: await userId(author), reason: 'harassment' }),
    });
    expect(reported.status).toBe(201);
    // Firefox throttles a background tab's animation frames, which locator actions wait on
    await mp.bringToFront();
    await mp.goto(`${url}/moderation`);
    await clickText(mp, '.moderation-item a', `Account @${author.username}`);
    await mp.waitFor('h1', 'Report case');
    await mp.click('input[name="action"][value="suspend"]');
    await mp.fill('form textarea', 'Cooling off after the argument.');
    await clickText(mp, 'button[type="submit"]', 'Decide');
    await mp.waitFor('p', 'Suspend');
    await ap.bringToFront();
    await ap.goto(`${url}/`);
    await ap.waitFor('.suspended-banner[role="status"]', 'Your account is suspended');
    await ap.waitFor('.suspended-banner', 'Cooling off after the argument.');
    await expectAxeClean(ap, 'suspended banner');
    await clickText(ap, '.suspended-banner a', 'Read the decision and appeal it');
    await ap.waitFor('h1', 'A moderation decision');
    await ap.waitFor('p', 'A moderator suspended your account');
    for (const page of pages) expect(page.problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  } finally {
    for (const page of pages) await page.close();
  }
}

describe.skipIf(!hasChromium)('chromium', () => {
  it('report a post → removed, both told → appeal overturned, the post is back → a suspension explained in the banner', async () => {
    const browser = await launchChromium();
    try {
      await journey(browser);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

// SKIPPED in Firefox, a known failure to fix (issue 14): in CI and locally the Firefox run times out
// opening the case from the queue (no "Report case" heading within 15 s after the click), and the
// server then does not exit within 30 s of SIGTERM. Chromium runs the same journey.
describe.skipIf(!hasFirefox)('firefox', () => {
  it('report a post → removed, both told → appeal overturned, the post is back → a suspension explained in the banner', async () => {
    const browser = await launchFirefox();
    try {
      await journey(browser);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
