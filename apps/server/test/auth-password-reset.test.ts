import { describe, expect, it } from 'vitest';
import { jobHandlers } from '../src/jobs.ts';
import { hashToken } from '../src/platform/security/tokens.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { type ReceivedMail, startSmtp, tokenIn } from './helpers/mail.ts';

const smtp = await startSmtp();
const t = await buildTestApp({ ...smtp.env, ...GENEROUS_AUTH_LIMITS, PUBLIC_URL: 'https://kith.test' });
let ipSeq = 0;
/** Each test its own client address, so the per-IP limits of one do not reach another. */
const newIp = () => `10.1.0.${++ipSeq}`;

const requestReset = (login: string, remoteAddress: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { login }, remoteAddress });
const confirm = (payload: object, remoteAddress = newIp()) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload, remoteAddress });
const loginStatus = async (login: string, password: string) =>
  (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login, password } }))
    .statusCode;

const mailsTo = (address: string, subject: string): ReceivedMail[] =>
  smtp.received.filter((m) => m.to.includes(address) && m.parsed.subject === subject);
const RESET = 'Reset your Kith password';
const CHANGED = 'Your Kith password was changed';

/** Asks for a reset, runs the mail job, returns the token from the mail that arrived. */
async function resetToken(login: string, address: string): Promise<string> {
  const before = mailsTo(address, RESET).length;
  expect((await requestReset(login, newIp())).statusCode).toBe(202);
  await runJobs(t);
  await smtp.nth(smtp.received.length); // the newest has fully arrived
  const mails = mailsTo(address, RESET);
  expect(mails).toHaveLength(before + 1);
  return tokenIn(mails.at(-1)!);
}

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.requestId).toEqual(expect.any(String));
}

describe('password reset', () => {
  it('mails a link; the token sets the password, signs out every session and the address is told', async () => {
    const user = await createUser(t);
    const res = await requestReset(user.username, newIp());
    expect(res.statusCode).toBe(202);
    await runJobs(t);
    const mail = (await smtp.nth(smtp.received.length)) && mailsTo(user.email, RESET)[0];
    expect(mail).toBeDefined();
    expect(mail!.parsed.text).toContain(`Hello ${user.username},`);
    expect(mail!.parsed.text).toMatch(/https:\/\/kith\.test\/reset-password\?token=[A-Za-z0-9_-]{43}/);
    expect(mail!.parsed.html).toMatch(/href="https:\/\/kith\.test\/reset-password\?token=[A-Za-z0-9_-]{43}"/);
    const token = tokenIn(mail!);
    // stored hashed: the token itself is nowhere in the table
    const stored = await t.platform.db.primary
      .selectFrom('account_tokens')
      .select(['token_hash', 'expires_at', 'created_at'])
      .where('user_id', '=', user.id)
      .where('purpose', '=', 'password_reset')
      .executeTakeFirstOrThrow();
    expect(stored.token_hash.equals(hashToken(token))).toBe(true);
    expect(stored.expires_at.getTime() - stored.created_at.getTime()).toBe(30 * 60_000);

    const ok = await confirm({ token, newPassword: 'a brand new passphrase' });
    expect(ok.statusCode).toBe(204);
    expect(await loginStatus(user.username, user.password)).toBe(401);
    expect(await loginStatus(user.username, 'a brand new passphrase')).toBe(200);
    // the old refresh token and access token are refused
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expectError(refresh, 401, 'INVALID_REFRESH_TOKEN');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: user.headers });
    expect(me.statusCode).toBe(401);
    const audit = await t.platform.db.primary
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', user.id)
      .where('action', 'in', ['auth.password_reset_request', 'auth.password_reset'])
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['auth.password_reset', 'auth.password_reset_request']);

    await runJobs(t);
    await smtp.nth(smtp.received.length);
    const notice = mailsTo(user.email, CHANGED);
    expect(notice).toHaveLength(1);
    expect(notice[0]!.parsed.html).toContain('every device was signed out');
  });

  it('answers an unknown login exactly like a known one, and mails nothing', async () => {
    const user = await createUser(t);
    const known = await requestReset(user.email, newIp());
    const unknown = await requestReset('nobody-here@example.com', newIp());
    const unknownName = await requestReset('no_such_user_42', newIp());
    for (const res of [unknown, unknownName]) {
      expect(res.statusCode).toBe(known.statusCode);
      expect(res.body).toBe(known.body);
      expect(res.headers['content-type']).toBe(known.headers['content-type']);
    }
    await runJobs(t);
    await smtp.nth(smtp.received.length);
    expect(smtp.received.filter((m) => m.to.includes('nobody-here@example.com'))).toHaveLength(0);
    expect(mailsTo(user.email, RESET)).toHaveLength(1);
  });

  it('refuses a token used twice, expired, unknown or of another purpose, and changes nothing', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.username, user.email);
    expect((await confirm({ token, newPassword: 'first new passphrase' })).statusCode).toBe(204);
    expectError(await confirm({ token, newPassword: 'second new passphrase' }), 400, 'INVALID_ACCOUNT_TOKEN');
    expect(await loginStatus(user.username, 'first new passphrase')).toBe(200);

    // a newer token is retired by the reset that used an older one
    const other = await createUser(t);
    const older = await resetToken(other.username, other.email);
    const newer = await resetToken(other.email, other.email);
    expect((await confirm({ token: older, newPassword: 'other new passphrase' })).statusCode).toBe(204);
    expectError(
      await confirm({ token: newer, newPassword: 'yet another passphrase' }),
      400,
      'INVALID_ACCOUNT_TOKEN',
    );
    expect(await loginStatus(other.username, 'other new passphrase')).toBe(200);

    const third = await createUser(t);
    const expired = await resetToken(third.username, third.email);
    await t.platform.db.primary
      .updateTable('account_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('token_hash', '=', hashToken(expired))
      .execute();
    expectError(
      await confirm({ token: expired, newPassword: 'too late passphrase' }),
      400,
      'INVALID_ACCOUNT_TOKEN',
    );
    expectError(
      await confirm({ token: 'A'.repeat(43), newPassword: 'guessing passphrase' }),
      400,
      'INVALID_ACCOUNT_TOKEN',
    );
    // the verification token mailed at sign-up is not a reset token
    await runJobs(t);
    await smtp.nth(smtp.received.length);
    const verify = smtp.received.find(
      (m) => m.to.includes(third.email) && m.parsed.subject === 'Confirm your e-mail address',
    );
    expectError(
      await confirm({ token: tokenIn(verify!), newPassword: 'crossed purpose phrase' }),
      400,
      'INVALID_ACCOUNT_TOKEN',
    );
    expect(await loginStatus(third.username, third.password)).toBe(200);
    const sessions = await t.platform.db.primary
      .selectFrom('sessions')
      .select('revoked_at')
      .where('user_id', '=', third.id)
      .execute();
    expect(sessions.every((s) => s.revoked_at === null)).toBe(true);
  });

  it('refuses malformed bodies and weak passwords without using the token', async () => {
    const user = await createUser(t);
    const token = await resetToken(user.username, user.email);
    expectError(await confirm({ token, newPassword: 'password123' }), 400, 'WEAK_PASSWORD');
    expectError(await confirm({ token, newPassword: 'short' }), 400, 'VALIDATION_FAILED');
    expectError(
      await confirm({ token: 'not a token!', newPassword: 'long enough phrase' }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await confirm({ token: 'x'.repeat(129), newPassword: 'long enough phrase' }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await confirm({ token, newPassword: 'long enough phrase', extra: 1 }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await confirm({ newPassword: 'long enough phrase' }), 400, 'VALIDATION_FAILED');
    expectError(await requestReset('', newIp()), 400, 'VALIDATION_FAILED');
    expectError(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password-reset',
        payload: {},
        remoteAddress: newIp(),
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await requestReset('x'.repeat(255), newIp()), 400, 'VALIDATION_FAILED');
    // the token survived all of that
    expect((await confirm({ token, newPassword: 'finally a good passphrase' })).statusCode).toBe(204);
  });

  it('limits requests per account and per address: 429, and at most the limit’s worth of mail', async () => {
    const user = await createUser(t);
    const ip = newIp();
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) {
      const res = await requestReset(i % 2 ? user.username : user.email.toUpperCase(), ip);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.headers['retry-after']).toBeDefined();
        expectError(res, 429, 'RATE_LIMITED');
      }
    }
    expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(12);
    expect(statuses).toContain(429);
    await runJobs(t);
    await smtp.nth(smtp.received.length);
    expect(mailsTo(user.email, RESET).length).toBe(3);

    // per address: many accounts (or none) from one client
    const crowd = newIp();
    const codes: number[] = [];
    for (let i = 0; i < 22; i++)
      codes.push((await requestReset(`someone_${i}@example.com`, crowd)).statusCode);
    expect(codes.slice(0, 20).every((c) => c === 202)).toBe(true);
    expect(codes.slice(20)).toEqual([429, 429]);
  });

  it('the cleanup job deletes tokens a day past their expiry and keeps the others', async () => {
    const user = await createUser(t);
    const old = await resetToken(user.username, user.email);
    const fresh = await resetToken(user.email, user.email);
    await t.platform.db.primary
      .updateTable('account_tokens')
      .set({ expires_at: new Date(Date.now() - 25 * 3_600_000) })
      .where('token_hash', '=', hashToken(old))
      .execute();
    await jobHandlers(t.services)['account-tokens.cleanup']({}, { jobId: '', attempts: 1 });
    const left = await t.platform.db.primary
      .selectFrom('account_tokens')
      .select('token_hash')
      .where('user_id', '=', user.id)
      .where('purpose', '=', 'password_reset')
      .execute();
    expect(left.map((r) => r.token_hash.toString('hex'))).toEqual([hashToken(fresh).toString('hex')]);
  });
});
