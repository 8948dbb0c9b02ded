import { describe, expect, it } from 'vitest';
import { hashToken } from '../src/platform/security/tokens.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { type ReceivedMail, startSmtp, tokenIn } from './helpers/mail.ts';

const smtp = await startSmtp();
const t = await buildTestApp({ ...smtp.env, ...GENEROUS_AUTH_LIMITS, PUBLIC_URL: 'https://kith.test/' });
const db = t.platform.db.primary;
const SUBJECT = 'Confirm your e-mail address';

const verify = (payload: object) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload });
const resend = (user: TestUser) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email/resend', headers: user.headers });
const verifiedAt = async (id: string) =>
  (await db.selectFrom('users').select('email_verified_at').where('id', '=', id).executeTakeFirstOrThrow())
    .email_verified_at;

/** Runs the queued mail jobs and returns the verification mails the user's address has received. */
async function delivered(user: TestUser): Promise<ReceivedMail[]> {
  await runJobs(t);
  if (smtp.received.length > 0) await smtp.nth(smtp.received.length);
  return smtp.received.filter((m) => m.to.includes(user.email) && m.parsed.subject === SUBJECT);
}

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string; requestId: string } };
  expect(body.error).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
}

describe('e-mail verification', () => {
  it('sign-up mails a link to the web app; its token verifies the address once', async () => {
    const user = await createUser(t);
    expect(await verifiedAt(user.id)).toBeNull();
    const [mail] = await delivered(user);
    expect(mail).toBeDefined();
    expect(mail!.parsed.text).toMatch(/https:\/\/kith\.test\/verify-email\?token=[A-Za-z0-9_-]{43}/);
    expect(mail!.parsed.html).toMatch(/href="https:\/\/kith\.test\/verify-email\?token=[A-Za-z0-9_-]{43}"/);
    const token = tokenIn(mail!);
    const row = await db
      .selectFrom('account_tokens')
      .select(['token_hash', 'created_at', 'expires_at'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.token_hash.equals(hashToken(token))).toBe(true);
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(24 * 3_600_000);

    expect((await verify({ token })).statusCode).toBe(204);
    const at = await verifiedAt(user.id);
    expect(at).toBeInstanceOf(Date);
    expectError(await verify({ token }), 400, 'INVALID_ACCOUNT_TOKEN');
    expect(await verifiedAt(user.id)).toEqual(at);
    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', user.id)
      .where('action', '=', 'auth.email_verify')
      .execute();
    expect(audit).toHaveLength(1);
    // verified: no more links
    expectError(await resend(user), 409, 'EMAIL_ALREADY_VERIFIED');
  });

  it('refuses an expired, unknown, malformed or reset-purpose token, and changes nothing', async () => {
    const user = await createUser(t);
    const [mail] = await delivered(user);
    const token = tokenIn(mail!);
    await db
      .updateTable('account_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('token_hash', '=', hashToken(token))
      .execute();
    expectError(await verify({ token }), 400, 'INVALID_ACCOUNT_TOKEN');
    expectError(await verify({ token: 'B'.repeat(43) }), 400, 'INVALID_ACCOUNT_TOKEN');
    expectError(await verify({ token: '<script>' }), 400, 'VALIDATION_FAILED');
    expectError(await verify({ token: 'C'.repeat(129) }), 400, 'VALIDATION_FAILED');
    expectError(await verify({}), 400, 'VALIDATION_FAILED');
    expectError(await verify({ token: 'abc', userId: user.id }), 400, 'VALIDATION_FAILED');
    // a password reset token is not a verification token
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/password-reset',
          payload: { login: user.username },
        })
      ).statusCode,
    ).toBe(202);
    await runJobs(t);
    await smtp.nth(smtp.received.length);
    const reset = smtp.received.find(
      (m) => m.to.includes(user.email) && m.parsed.subject === 'Reset your Kith password',
    );
    expectError(await verify({ token: tokenIn(reset!) }), 400, 'INVALID_ACCOUNT_TOKEN');
    expect(await verifiedAt(user.id)).toBeNull();
  });

  it('a token for one account cannot verify another, and a resent link works', async () => {
    const ann = await createUser(t);
    const bob = await createUser(t);
    const [annMail] = await delivered(ann);
    expect((await verify({ token: tokenIn(annMail!) })).statusCode).toBe(204);
    expect(await verifiedAt(ann.id)).toBeInstanceOf(Date);
    expect(await verifiedAt(bob.id)).toBeNull();

    expect((await resend(bob)).statusCode).toBe(202);
    const mails = await delivered(bob);
    expect(mails).toHaveLength(2);
    // the newest link works and retires the older one
    expect((await verify({ token: tokenIn(mails[1]!) })).statusCode).toBe(204);
    expectError(await verify({ token: tokenIn(mails[0]!) }), 400, 'INVALID_ACCOUNT_TOKEN');
  });

  it('resend needs a session and is rate-limited, with at most the limit’s worth of mail', async () => {
    expectError(
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email/resend' }),
      401,
      'UNAUTHENTICATED',
    );
    const user = await createUser(t);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await resend(user);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expectError(res, 429, 'RATE_LIMITED');
        expect(res.headers['retry-after']).toBeDefined();
      }
    }
    // sign-up's mail counts: two resends, then 429
    expect(statuses).toEqual([202, 202, 429, 429, 429, 429, 429, 429]);
    expect(await delivered(user)).toHaveLength(3);
  });
});
