import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { jobHandlers } from '../src/jobs.ts';
import { TOTP_PERIOD_SECONDS } from '../src/modules/auth/totp.ts';
import { hashToken } from '../src/platform/security/tokens.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { startSmtp } from './helpers/mail.ts';
import { SoftAuthenticator } from './helpers/webauthn.ts';

const smtp = await startSmtp();
const t = await buildTestApp({
  ...smtp.env,
  ...GENEROUS_AUTH_LIMITS,
  PUBLIC_URL: 'https://kith.test/',
  TWO_FACTOR_MAX_FAILURES: '10',
  TWO_FACTOR_LOCK_MINUTES: '15',
});
const db = t.platform.db.primary;
const SITE = { origin: 'https://kith.test', rpId: 'kith.test' };
const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes, checked by the assertions
type Res = { statusCode: number; json(): any; headers: Record<string, unknown> };
const post = (
  url: string,
  payload: object | undefined,
  user?: TestUser,
  headers: Record<string, string> = {},
) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/auth${url}`,
    ...(payload ? { payload } : {}),
    headers: { ...(user?.headers ?? {}), 'user-agent': CHROME, ...headers },
  }) as Promise<Res>;

function expectError(res: Res, status: number, code: string) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  expect(res.json().error).toMatchObject({
    code,
    message: expect.any(String),
    requestId: expect.any(String),
  });
}

const step = () => Math.floor(Date.now() / 1000 / TOTP_PERIOD_SECONDS);
const codeAt = (secret: string, s: number) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: s * TOTP_PERIOD_SECONDS * 1000 });
/** A code for the current step, which the server has not seen yet (an older step is marked used). */
async function freshCode(user: TestUser, secret: string): Promise<string> {
  const now = step();
  await db
    .updateTable('two_factor')
    .set({ totp_last_step: now - 2 })
    .where('user_id', '=', user.id)
    .execute();
  return codeAt(secret, now);
}
const audits = async (userId: string, action: string) =>
  db
    .selectFrom('audit_log')
    .select(['action', 'details'])
    .where('target_id', '=', userId)
    .where('action', '=', action as never)
    .execute();
const sessionCount = async (userId: string) =>
  Number(
    (
      await db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Signs up and turns TOTP on; returns the secret and the recovery codes. */
async function withTotp(): Promise<{ user: TestUser; secret: string; codes: string[] }> {
  const user = await createUser(t);
  const setup = await post('/2fa/totp', { password: user.password }, user);
  expect(setup.statusCode).toBe(200);
  const { secret, uri } = setup.json();
  expect(uri).toMatch(new RegExp(`^otpauth://totp/Kith:${user.username}\\?`));
  const confirm = await post('/2fa/totp/confirm', { code: codeAt(secret, step()) }, user);
  expect(confirm.statusCode, confirm.json().error?.code).toBe(200);
  return { user, secret, codes: confirm.json().recoveryCodes };
}

async function passwordStep(user: TestUser): Promise<string> {
  const res = await post('/login', { login: user.username, password: user.password });
  expect(res.statusCode, JSON.stringify(res.json())).toBe(202);
  return res.json().challengeToken;
}

describe('TOTP enrolment', () => {
  it('needs a current code of the new secret; gives ten single-use recovery codes, stored hashed', async () => {
    const user = await createUser(t);
    expectError(await post('/2fa/totp', { password: 'not my password' }, user), 403, 'WRONG_PASSWORD');
    expectError(await post('/2fa/totp', {}, user), 400, 'VALIDATION_FAILED');
    const { secret } = (await post('/2fa/totp', { password: user.password }, user)).json();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expectError(
      await post(
        '/2fa/totp/confirm',
        { code: '000000' === codeAt(secret, step()) ? '111111' : '000000' },
        user,
      ),
      403,
      'INVALID_SECOND_FACTOR',
    );
    expectError(await post('/2fa/totp/confirm', { code: '12345' }, user), 400, 'VALIDATION_FAILED');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/2fa', headers: user.headers })).json(),
    ).toMatchObject({
      totpEnabled: false,
      recoveryCodesLeft: 0,
    });
    const res = await post('/2fa/totp/confirm', { code: codeAt(secret, step()) }, user);
    expect(res.statusCode).toBe(200);
    const codes: string[] = res.json().recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    const stored = await db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.id).execute();
    expect(stored).toHaveLength(10);
    for (const row of stored) expect(codes.some((c) => row.code_hash.toString().includes(c))).toBe(false);
    expect(await audits(user.id, 'auth.two_factor_enable')).toHaveLength(1);
    expectError(await post('/2fa/totp', { password: user.password }, user), 409, 'TWO_FACTOR_ENABLED');
    const status = (
      await t.app.inject({ method: 'GET', url: '/api/v1/auth/2fa', headers: user.headers })
    ).json();
    expect(status).toMatchObject({
      totpEnabled: true,
      recoveryCodesLeft: 10,
      passkeys: 0,
      lockedUntil: null,
    });
  });
});

describe('sign-in with a second factor', () => {
  it('a right password answers a challenge and starts no session; the code finishes the sign-in', async () => {
    const { user, secret } = await withTotp();
    const before = await sessionCount(user.id);
    expectError(
      await post('/login', { login: user.username, password: 'not the password' }),
      401,
      'INVALID_CREDENTIALS',
    );
    const res = await post('/login', { login: user.username, password: user.password });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      status: 'second_factor_required',
      methods: ['totp', 'recovery_code'],
    });
    expect(res.json()).not.toHaveProperty('accessToken');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await sessionCount(user.id)).toBe(before);

    const code = await freshCode(user, secret);
    const done = await post('/login/second-factor', { challengeToken: res.json().challengeToken, code });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ user: { id: user.id }, accessToken: expect.any(String) });
    expect(await sessionCount(user.id)).toBe(before + 1);
    const logins = await audits(user.id, 'auth.login');
    expect(logins.at(-1)?.details).toEqual({ method: 'totp' });
    // the challenge is used up
    expectError(
      await post('/login/second-factor', { challengeToken: res.json().challengeToken, code }),
      401,
      'INVALID_CHALLENGE',
    );
  });

  it('refuses a code replayed within its window', async () => {
    const { user, secret } = await withTotp();
    const code = await freshCode(user, secret);
    expect(
      (await post('/login/second-factor', { challengeToken: await passwordStep(user), code })).statusCode,
    ).toBe(200);
    expectError(
      await post('/login/second-factor', { challengeToken: await passwordStep(user), code }),
      403,
      'INVALID_SECOND_FACTOR',
    );
    expect(await audits(user.id, 'auth.second_factor_failed')).toHaveLength(1);
  });

  it('takes a recovery code once', async () => {
    const { user, codes } = await withTotp();
    const recoveryCode = codes[3]!.toUpperCase().replaceAll('-', ' ');
    expect(
      (await post('/login/second-factor', { challengeToken: await passwordStep(user), recoveryCode }))
        .statusCode,
    ).toBe(200);
    expectError(
      await post('/login/second-factor', {
        challengeToken: await passwordStep(user),
        recoveryCode: codes[3]!,
      }),
      403,
      'INVALID_SECOND_FACTOR',
    );
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/2fa', headers: user.headers })).json()
        .recoveryCodesLeft,
    ).toBe(9);
    expect(await audits(user.id, 'auth.recovery_code_used')).toHaveLength(1);
  });

  it('refuses malformed steps with a clear 4xx', async () => {
    const { user, secret, codes } = await withTotp();
    const challengeToken = await passwordStep(user);
    expectError(
      await post('/login/second-factor', { challengeToken, code: 'abcdef' }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await post('/login/second-factor', { challengeToken }), 400, 'BAD_REQUEST');
    expectError(
      await post('/login/second-factor', {
        challengeToken,
        code: codeAt(secret, step()),
        recoveryCode: codes[0]!,
      }),
      400,
      'BAD_REQUEST',
    );
    expectError(
      await post('/login/second-factor', { challengeToken: 'x'.repeat(43), code: '123456' }),
      401,
      'INVALID_CHALLENGE',
    );
    expectError(await post('/login/second-factor/passkey-options', { challengeToken }), 404, 'NOT_FOUND');
  });

  it('locks sign-in after ten wrong second factors, audited, until the lock ends', async () => {
    const { user, secret } = await withTotp();
    const first = await passwordStep(user);
    const spare = await passwordStep(user);
    const right = codeAt(secret, step());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 10; i++)
      expectError(
        await post('/login/second-factor', { challengeToken: first, code: wrong }),
        403,
        'INVALID_SECOND_FACTOR',
      );
    const lock = await audits(user.id, 'auth.second_factor_locked');
    expect(lock).toHaveLength(1);
    expect(lock[0]!.details).toEqual({ failures: 10, minutes: 15 });
    expect(await audits(user.id, 'auth.second_factor_failed')).toHaveLength(10);
    // even the right code, on another challenge, and the password step itself: refused while locked
    const locked = await post('/login/second-factor', {
      challengeToken: spare,
      code: await freshCode(user, secret),
    });
    expectError(locked, 429, 'SECOND_FACTOR_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(14 * 60);
    expectError(
      await post('/login', { login: user.username, password: user.password }),
      429,
      'SECOND_FACTOR_LOCKED',
    );
    // the lock ends by itself
    await db
      .updateTable('two_factor')
      .set({ locked_until: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    const code = await freshCode(user, secret);
    expect(
      (await post('/login/second-factor', { challengeToken: await passwordStep(user), code })).statusCode,
    ).toBe(200);
  });
});

describe('turning 2FA off', () => {
  it('needs the password and a current code; a missing or wrong one changes nothing', async () => {
    const { user, secret, codes } = await withTotp();
    expectError(await post('/2fa/disable', { password: user.password }, user), 400, 'BAD_REQUEST');
    expectError(
      await post('/2fa/disable', { password: 'wrong password', code: await freshCode(user, secret) }, user),
      403,
      'WRONG_PASSWORD',
    );
    const right = codeAt(secret, step());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    expectError(
      await post('/2fa/disable', { password: user.password, code: wrong }, user),
      403,
      'INVALID_SECOND_FACTOR',
    );
    expect(
      (
        await db
          .selectFrom('two_factor')
          .select('totp_enabled_at')
          .where('user_id', '=', user.id)
          .executeTakeFirstOrThrow()
      ).totp_enabled_at,
    ).not.toBeNull();
    expect(await audits(user.id, 'auth.two_factor_disable')).toHaveLength(0);

    const res = await post('/2fa/disable', { password: user.password, recoveryCode: codes[0]! }, user);
    expect(res.statusCode).toBe(204);
    expect(await audits(user.id, 'auth.two_factor_disable')).toHaveLength(1);
    expect(
      await db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.id).execute(),
    ).toEqual([]);
    // the account signs in with its password alone again (the published contract's 200)
    const login = await post('/login', { login: user.username, password: user.password });
    expect(login.statusCode).toBe(200);
    expectError(
      await post('/2fa/disable', { password: user.password, code: right }, user),
      409,
      'TWO_FACTOR_NOT_ENABLED',
    );
  });

  it('replaces the recovery codes with a current code', async () => {
    const { user, secret, codes } = await withTotp();
    const res = await post('/2fa/recovery-codes', { code: await freshCode(user, secret) }, user);
    expect(res.statusCode).toBe(200);
    expect(res.json().recoveryCodes).toHaveLength(10);
    expectError(
      await post('/login/second-factor', {
        challengeToken: await passwordStep(user),
        recoveryCode: codes[1]!,
      }),
      403,
      'INVALID_SECOND_FACTOR',
    );
    expect(
      (
        await post('/login/second-factor', {
          challengeToken: await passwordStep(user),
          recoveryCode: res.json().recoveryCodes[0],
        })
      ).statusCode,
    ).toBe(200);
    expect(await audits(user.id, 'auth.recovery_codes_regenerate')).toHaveLength(1);
  });
});

describe('passkeys', () => {
  async function enrol(user: TestUser, authenticator = new SoftAuthenticator(), site = SITE) {
    const { challengeId, options } = (
      await post('/passkeys/registration-options', { password: user.password }, user)
    ).json();
    expect(options.rp).toEqual({ name: 'Kith', id: 'kith.test' });
    expect(options.authenticatorSelection.residentKey).toBe('required');
    return post(
      '/passkeys',
      { challengeId, name: 'Laptop', response: authenticator.register(options, site) },
      user,
    );
  }
  async function passkeyLogin(authenticator: SoftAuthenticator, site = SITE) {
    const { challengeId, options } = (await post('/passkeys/login/options', undefined)).json();
    return post('/passkeys/login', { challengeId, response: authenticator.assert(options, site) });
  }

  it('are added, listed, renamed and removed, each change audited', async () => {
    const user = await createUser(t);
    const res = await enrol(user);
    expect(res.statusCode, JSON.stringify(res.json())).toBe(201);
    const id = res.json().id;
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: user.headers })
    ).json();
    expect(list.items).toEqual([
      { id, name: 'Laptop', createdAt: expect.any(String), lastUsedAt: null, backedUp: false },
    ]);
    const renamed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/auth/passkeys/${id}`,
      headers: user.headers,
      payload: { name: 'Work laptop' },
    });
    expect(renamed.json().name).toBe('Work laptop');
    expectError(
      (await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/auth/passkeys/${id}`,
        headers: user.headers,
        payload: { name: '   ' },
      })) as Res,
      400,
      'VALIDATION_FAILED',
    );
    const other = await createUser(t);
    expectError(
      (await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/auth/passkeys/${id}`,
        headers: other.headers,
      })) as Res,
      404,
      'NOT_FOUND',
    );
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${id}`, headers: user.headers }))
        .statusCode,
    ).toBe(204);
    for (const action of ['auth.passkey_add', 'auth.passkey_rename', 'auth.passkey_remove'])
      expect(
        await db
          .selectFrom('audit_log')
          .select('id')
          .where('actor_id', '=', user.id)
          .where('action', '=', action as never)
          .execute(),
      ).toHaveLength(1);
  });

  it('refuses an enrolment without the password, or made for another origin or RP id', async () => {
    const user = await createUser(t);
    expectError(
      await post('/passkeys/registration-options', { password: 'not my password' }, user),
      403,
      'WRONG_PASSWORD',
    );
    expectError(
      await enrol(user, new SoftAuthenticator(), { ...SITE, origin: 'https://kith.evil' }),
      400,
      'PASSKEY_REFUSED',
    );
    expectError(
      await enrol(user, new SoftAuthenticator(), { ...SITE, rpId: 'evil.test' }),
      400,
      'PASSKEY_REFUSED',
    );
    expect(await db.selectFrom('passkeys').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
  });

  it('sign in without a password; an assertion for another origin or RP id is refused', async () => {
    const user = await createUser(t);
    const authenticator = new SoftAuthenticator();
    expect((await enrol(user, authenticator)).statusCode).toBe(201);
    expectError(
      await passkeyLogin(authenticator, { ...SITE, origin: 'https://kith.evil' }),
      400,
      'PASSKEY_REFUSED',
    );
    expectError(await passkeyLogin(authenticator, { ...SITE, rpId: 'evil.test' }), 400, 'PASSKEY_REFUSED');
    expectError(await passkeyLogin(new SoftAuthenticator()), 400, 'PASSKEY_REFUSED');
    const ok = await passkeyLogin(authenticator);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.id).toBe(user.id);
    expect((await audits(user.id, 'auth.login')).at(-1)?.details).toEqual({ method: 'passkey' });
    // a ceremony is single-use
    const { challengeId, options } = (await post('/passkeys/login/options', undefined)).json();
    const response = authenticator.assert(options, SITE);
    expect((await post('/passkeys/login', { challengeId, response })).statusCode).toBe(200);
    expectError(await post('/passkeys/login', { challengeId, response }), 401, 'INVALID_CHALLENGE');
  });

  it('password-less sign-in is refused while wrong second factors lock the account, audited, until the lock ends', async () => {
    const { user, secret } = await withTotp();
    const authenticator = new SoftAuthenticator();
    expect((await enrol(user, authenticator)).statusCode).toBe(201);
    const challengeToken = await passwordStep(user);
    const right = codeAt(secret, step());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 10; i++)
      expectError(
        await post('/login/second-factor', { challengeToken, code: wrong }),
        403,
        'INVALID_SECOND_FACTOR',
      );
    const sessions = await sessionCount(user.id);
    const refused = await passkeyLogin(authenticator);
    expectError(refused, 429, 'SECOND_FACTOR_LOCKED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(14 * 60);
    expect(await sessionCount(user.id)).toBe(sessions);
    expect((await audits(user.id, 'auth.login_failed')).map((a) => a.details)).toEqual([
      { method: 'passkey', reason: 'second_factor_locked' },
    ]);
    await db
      .updateTable('two_factor')
      .set({ locked_until: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    expect((await passkeyLogin(authenticator)).statusCode).toBe(200);
  });

  it('password-less sign-in refuses a banned account and lets a suspended one read, exactly as a password does', async () => {
    const banned = await createUser(t);
    const bannedKey = new SoftAuthenticator();
    expect((await enrol(banned, bannedKey)).statusCode).toBe(201);
    await db.updateTable('users').set({ banned_at: new Date() }).where('id', '=', banned.id).execute();
    expectError(
      await post('/login', { login: banned.username, password: banned.password }),
      403,
      'ACCOUNT_BANNED',
    );
    expectError(await passkeyLogin(bannedKey), 403, 'ACCOUNT_BANNED');
    expect((await audits(banned.id, 'auth.login_failed')).map((a) => a.details.reason)).toEqual([
      'banned',
      'banned',
    ]);

    const suspended = await createUser(t);
    const suspendedKey = new SoftAuthenticator();
    expect((await enrol(suspended, suspendedKey)).statusCode).toBe(201);
    await t.services.users.suspend(suspended.id, new Date(Date.now() + 3_600_000));
    expect(
      (await post('/login', { login: suspended.username, password: suspended.password })).statusCode,
    ).toBe(200);
    const signedIn = await passkeyLogin(suspendedKey);
    expect(signedIn.statusCode).toBe(200);
    const headers = { authorization: `Bearer ${signedIn.json().accessToken}` };
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/feed', headers })).statusCode).toBe(200);
    const write = (await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers,
      payload: { text: 'hello', visibility: 'public' },
    })) as Res;
    expectError(write, 403, 'ACCOUNT_SUSPENDED');
  });

  it('answer the second-factor step; one for another origin counts as a wrong factor', async () => {
    const { user } = await withTotp();
    const authenticator = new SoftAuthenticator();
    expect((await enrol(user, authenticator)).statusCode).toBe(201);
    const challengeToken = await passwordStep(user);
    const options = (await post('/login/second-factor/passkey-options', { challengeToken })).json();
    expect(options.allowCredentials).toHaveLength(1);
    const phished = authenticator.assert(options, { ...SITE, origin: 'https://kith.evil' });
    expectError(
      await post('/login/second-factor', { challengeToken, passkey: phished }),
      403,
      'INVALID_SECOND_FACTOR',
    );
    const res = await post('/login/second-factor', {
      challengeToken,
      passkey: authenticator.assert(options, SITE),
    });
    expect(res.statusCode).toBe(200);
    expect((await audits(user.id, 'auth.login')).at(-1)?.details).toEqual({ method: 'passkey' });
  });
});

describe('new-sign-in notice', () => {
  it('mails the account when a session starts from a device not seen before, with the sessions link', async () => {
    const user = await createUser(t);
    const signIn = (ua: string, ip: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { login: user.username, password: user.password },
        headers: { 'user-agent': ua },
        remoteAddress: ip,
      });
    const notices = async () => {
      await runJobs(t);
      if (smtp.received.length > 0) await smtp.nth(smtp.received.length);
      return smtp.received.filter(
        (m) => m.to.includes(user.email) && m.parsed.subject === 'New sign-in to your Kith account',
      );
    };
    // signed up from 127.0.0.1 with inject's default agent; the first sign-in from Chrome is new
    expect((await signIn(CHROME, '203.0.113.10')).statusCode).toBe(200);
    expect(await notices()).toHaveLength(1);
    // same browser family, same /24: nothing new
    expect((await signIn(CHROME.replace('130.0', '131.0'), '203.0.113.99')).statusCode).toBe(200);
    expect(await notices()).toHaveLength(1);
    expect((await signIn(FIREFOX, '203.0.113.99')).statusCode).toBe(200);
    const mails = await notices();
    expect(mails).toHaveLength(2);
    expect(mails[1]!.parsed.text).toContain('Firefox on Linux, network 203.0.113.0/24');
    expect(mails[1]!.parsed.text).toContain('https://kith.test/settings#sessions');
    expect(mails[1]!.parsed.html).toContain('href="https://kith.test/settings#sessions"');
  });
});

describe('housekeeping', () => {
  it('the hourly cleanup removes sign-in challenges an hour past expiry, and no live one', async () => {
    const user = await createUser(t);
    const [old, live] = [hashToken('expired-challenge'), hashToken('live-challenge')];
    await db
      .insertInto('auth_challenges')
      .values([
        {
          token_hash: old,
          purpose: 'second_factor',
          user_id: user.id,
          expires_at: new Date(Date.now() - 2 * 3_600_000),
        },
        {
          token_hash: live,
          purpose: 'second_factor',
          user_id: user.id,
          expires_at: new Date(Date.now() + 300_000),
        },
      ])
      .execute();
    await (jobHandlers(t.platform)['account-tokens.cleanup'] as () => Promise<void>)();
    const left = await db
      .selectFrom('auth_challenges')
      .select('token_hash')
      .where('user_id', '=', user.id)
      .execute();
    expect(left.map((r) => r.token_hash.toString('hex'))).toEqual([live.toString('hex')]);
  });
});
