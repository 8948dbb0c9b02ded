import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { type ReceivedMail, startSmtp, tokenIn } from './helpers/mail.ts';

// E-mail change (issue 14): confirmed from the new address, announced to the old one with an undo
// link for 7 days; mail through a real SMTP server.
const smtp = await startSmtp();
const t = await buildTestApp({ ...smtp.env, ...GENEROUS_AUTH_LIMITS, PUBLIC_URL: 'https://kith.test' });
const db = t.platform.db.primary;

const CONFIRM = 'Confirm your new e-mail address';
const CHANGED = 'The e-mail address of your Kith account was changed';
const IN_USE = 'Someone tried to use your address on Kith';

const post = (url: string, payload: object, user?: TestUser) =>
  t.app.inject({ method: 'POST', url: `/api/v1/auth${url}`, payload, headers: user?.headers ?? {} });

async function delivered(): Promise<void> {
  await runJobs(t);
  if (smtp.received.length > 0) await smtp.nth(smtp.received.length);
}
const mailsTo = (address: string, subject: string): ReceivedMail[] =>
  smtp.received.filter((m) => m.to.includes(address) && m.parsed.subject === subject);

function expectError(res: { statusCode: number; body: string }, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  const { error } = JSON.parse(res.body);
  expect(error.code).toBe(code);
  expect(error.message).toEqual(expect.any(String));
  expect(error.requestId).toEqual(expect.any(String));
}

const addressOf = async (id: string) =>
  db
    .selectFrom('users')
    .select(['email', 'email_verified_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

const fresh = () => `new-${Math.random().toString(36).slice(2, 10)}@example.test`;

describe('changing the e-mail address', () => {
  it('needs the link from the new address; then the old one is told and can undo it for 7 days', async () => {
    const user = await createUser(t);
    const target = fresh();
    const asked = await post('/email-change', { email: target.toUpperCase(), password: user.password }, user);
    expect(asked.statusCode, asked.body).toBe(202);
    await delivered();
    // nothing changed yet
    expect((await addressOf(user.id)).email).toBe(user.email);
    const [confirmMail] = mailsTo(target, CONFIRM);
    expect(confirmMail!.parsed.text).toMatch(/https:\/\/kith\.test\/confirm-email-change\?token=/);

    const confirmed = await post('/email-change/confirm', { token: tokenIn(confirmMail!) });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toEqual({ email: target });
    const now = await addressOf(user.id);
    expect(now.email).toBe(target);
    expect(now.email_verified_at).not.toBeNull();
    // the link works once
    expectError(
      await post('/email-change/confirm', { token: tokenIn(confirmMail!) }),
      400,
      'INVALID_ACCOUNT_TOKEN',
    );

    await delivered();
    const [told] = mailsTo(user.email, CHANGED);
    expect(told!.parsed.text).toContain(target);
    expect(told!.parsed.text).toMatch(/https:\/\/kith\.test\/undo-email-change\?token=/);
    const undo = await t.platform.db.primary
      .selectFrom('account_tokens')
      .select(['created_at', 'expires_at'])
      .where('user_id', '=', user.id)
      .where('purpose', '=', 'email_change_undo')
      .executeTakeFirstOrThrow();
    expect(undo.expires_at.getTime() - undo.created_at.getTime()).toBe(7 * 24 * 3600_000);

    // signing in with the new address works; undoing brings the old one back and signs out everywhere
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: target, password: user.password },
    });
    expect(login.statusCode).toBe(200);
    const undone = await post('/email-change/undo', { token: tokenIn(told!) });
    expect(undone.statusCode, undone.body).toBe(204);
    expect((await addressOf(user.id)).email).toBe(user.email);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: user.headers });
    expect(me.statusCode).toBe(401);
    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', user.id)
      .where('action', 'like', 'auth.email_change%')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'auth.email_change_request',
      'auth.email_change',
      'auth.email_change_undo',
    ]);
  });

  it('never tells the requester that an address is taken: its owner is told instead', async () => {
    const [user, owner] = [await createUser(t), await createUser(t)];
    const asked = await post('/email-change', { email: owner.email, password: user.password }, user);
    expect(asked.statusCode).toBe(202);
    await delivered();
    expect(mailsTo(owner.email, IN_USE)).toHaveLength(1);
    expect(mailsTo(owner.email, CONFIRM)).toHaveLength(0);
    expect((await addressOf(user.id)).email).toBe(user.email);
  });

  it('refuses a wrong password, the same address, bad input and too many requests; nothing changes', async () => {
    const user = await createUser(t);
    expectError(
      await post('/email-change', { email: fresh(), password: 'not my password' }, user),
      403,
      'WRONG_PASSWORD',
    );
    expectError(
      await post('/email-change', { email: user.email, password: user.password }, user),
      400,
      'INVALID_PARAMETER',
    );
    expectError(
      await post('/email-change', { email: 'not an address', password: user.password }, user),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await post('/email-change', { email: fresh() }, user), 400, 'VALIDATION_FAILED');
    expectError(
      await post('/email-change', { email: fresh(), password: user.password }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(await post('/email-change/confirm', { token: 'x'.repeat(43) }), 400, 'INVALID_ACCOUNT_TOKEN');
    expectError(await post('/email-change/undo', { token: 'bad token!' }), 400, 'VALIDATION_FAILED');
    for (let i = 0; i < 3; i++)
      expect(
        (await post('/email-change', { email: fresh(), password: user.password }, user)).statusCode,
      ).toBe(202);
    expectError(
      await post('/email-change', { email: fresh(), password: user.password }, user),
      429,
      'RATE_LIMITED',
    );
    expect((await addressOf(user.id)).email).toBe(user.email);
  });

  it('a confirmation for an address taken in the meantime is refused with EMAIL_TAKEN, and changes nothing', async () => {
    const user = await createUser(t);
    const target = fresh();
    await post('/email-change', { email: target, password: user.password }, user);
    await delivered();
    const token = tokenIn(mailsTo(target, CONFIRM)[0]!);
    const other = await createUser(t, { email: target });
    expectError(await post('/email-change/confirm', { token }), 409, 'EMAIL_TAKEN');
    expect((await addressOf(user.id)).email).toBe(user.email);
    expect((await addressOf(other.id)).email).toBe(target);
  });
});
