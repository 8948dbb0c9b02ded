import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../src/platform/security/tokens.ts';
import { buildTestApp } from './helpers/app.ts';
import { bearer, createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, COOKIE_SECURE: 'false' });
const { app } = t;
const db = t.platform.db.primary;

const refresh = (refreshToken: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
/** Moves a token's first use back in time, as if the grace window had passed. */
const ageToken = (token: string, seconds: number) =>
  db
    .updateTable('refresh_tokens')
    .set({ used_at: sql<Date>`used_at - make_interval(secs => ${seconds})` })
    .where('token_hash', '=', hashToken(token))
    .execute();

describe('POST /api/v1/auth/refresh', () => {
  it('rotates: a new pair, stored only as hashes, in the same session', async () => {
    const user = await createUser(app);
    const res = await refresh(user.refreshToken);
    expect(res.statusCode, res.body).toBe(200);
    const pair = res.json();
    expect(Object.keys(pair).sort()).toEqual(['accessToken', 'accessTokenExpiresAt', 'refreshToken']);
    expect(pair.refreshToken).not.toBe(user.refreshToken);
    expect(String(res.headers['set-cookie'])).toContain(`kith_refresh=${pair.refreshToken}`);
    expect((await me(pair.accessToken)).statusCode).toBe(200);

    const rows = await db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('token_hash', 'in', [hashToken(user.refreshToken), hashToken(pair.refreshToken)])
      .execute();
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.session_id)).size).toBe(1);
    const raw = await db.selectFrom('refresh_tokens').select('token_hash').execute();
    expect(raw.some((r) => r.token_hash.toString('base64url') === pair.refreshToken)).toBe(false);

    const next = await refresh(pair.refreshToken);
    expect(next.statusCode).toBe(200);
    expect(next.json().refreshToken).not.toBe(pair.refreshToken);
  });

  it('gives concurrent refreshes with one token the same new pair', async () => {
    const user = await createUser(app);
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(user.refreshToken)));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const pairs = results.map((r) => r.json());
    for (const pair of pairs) expect(pair).toEqual(pairs[0]);
    // exactly one successor was stored
    const session = await db
      .selectFrom('refresh_tokens')
      .select('session_id')
      .where('token_hash', '=', hashToken(user.refreshToken))
      .executeTakeFirstOrThrow();
    const tokens = await db
      .selectFrom('refresh_tokens')
      .select('token_hash')
      .where('session_id', '=', session.session_id)
      .execute();
    expect(tokens).toHaveLength(2);
  });

  it('answers a retry within the grace window with the same pair', async () => {
    const user = await createUser(app);
    const first = (await refresh(user.refreshToken)).json();
    await ageToken(user.refreshToken, 15);
    const again = await refresh(user.refreshToken);
    expect(again.statusCode).toBe(200);
    // (moving used_at back moved iat too, so only the refresh token is compared here)
    expect(again.json().refreshToken).toBe(first.refreshToken);
    expect((await me(again.json().accessToken)).statusCode).toBe(200);
  });

  it('treats a rotated token after the grace window as reuse: 401, the family revoked, audited', async () => {
    const user = await createUser(app);
    const pair = (await refresh(user.refreshToken)).json();
    await ageToken(user.refreshToken, 21);

    const replay = await refresh(user.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('INVALID_REFRESH_TOKEN');

    // every token and access token of the family is dead
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    expect((await me(pair.accessToken)).statusCode).toBe(401);
    expect((await me(user.accessToken)).statusCode).toBe(401);
    const session = await db
      .selectFrom('sessions')
      .select(['id', 'revoked_at', 'revoked_reason'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(session.revoked_reason).toBe('refresh_token_reuse');
    const audit = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'auth.refresh_token_reuse')
      .where('target_id', '=', session.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toEqual({ userId: user.id });

    // other sessions of the user are untouched
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: user.username, password: user.password },
    });
    expect((await me(login.json().accessToken)).statusCode).toBe(200);
  });

  it('refuses unknown, malformed and missing tokens', async () => {
    expect((await refresh('A'.repeat(43))).statusCode).toBe(401);
    expect((await refresh('x'.repeat(129))).statusCode).toBe(400);
    const none = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('INVALID_REFRESH_TOKEN');
    const extra = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: 'a', sessionId: 'b' },
    });
    expect(extra.statusCode).toBe(400);
  });

  it('takes the token from the cookie only with the X-Kith-CSRF header', async () => {
    const user = await createUser(app);
    const cookies = { kith_refresh: user.refreshToken };
    const forged = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', cookies });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('CSRF_FAILED');
    const wrongValue = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      cookies,
      headers: { 'x-kith-csrf': 'yes' },
    });
    expect(wrongValue.statusCode).toBe(403);

    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      cookies,
      headers: { 'x-kith-csrf': '1' },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toContain(`kith_refresh=${ok.json().refreshToken}`);
    expect(cookie).not.toMatch(/Secure/); // COOKIE_SECURE=false in this file
    const empty = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      cookies: { kith_refresh: ok.json().refreshToken },
      headers: { 'x-kith-csrf': '1' },
      payload: {},
    });
    expect(empty.statusCode).toBe(200);
  });

  it('refuses the refresh token of a logged-out session', async () => {
    const user = await createUser(app);
    const out = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.headers });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/kith_refresh=;.*Expires=Thu, 01 Jan 1970/);
    expect((await refresh(user.refreshToken)).statusCode).toBe(401);
  });

  it('keeps a session hint cookie (path /, readable by the page, no secret) beside the refresh cookie', async () => {
    const setCookies = (res: { headers: Record<string, unknown> }) =>
      ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? []);
    const hintOf = (res: { headers: Record<string, unknown> }) =>
      setCookies(res).find((c) => c.startsWith('kith_session_hint='));
    const user = await createUser(app);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      cookies: { kith_refresh: user.refreshToken },
      headers: { 'x-kith-csrf': '1' },
    });
    expect(ok.statusCode).toBe(200);
    const hint = hintOf(ok);
    expect(hint).toMatch(/^kith_session_hint=1;/);
    expect(hint).toMatch(/Path=\//);
    expect(hint).toMatch(/SameSite=Strict/);
    expect(hint).toMatch(/Max-Age=\d+/);
    expect(hint).not.toMatch(/HttpOnly/);

    // a dead refresh cookie (rotated away long ago, or revoked) is dropped with its hint
    await ageToken(user.refreshToken, 3600);
    const dead = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      cookies: { kith_refresh: user.refreshToken },
      headers: { 'x-kith-csrf': '1' },
    });
    expect(dead.statusCode).toBe(401);
    expect(dead.json().error.code).toBe('INVALID_REFRESH_TOKEN');
    expect(hintOf(dead)).toMatch(/^kith_session_hint=;.*Expires=Thu, 01 Jan 1970/);
    expect(setCookies(dead).some((c) => /^kith_refresh=;.*Expires=Thu, 01 Jan 1970/.test(c))).toBe(true);

    // a hint left without its refresh cookie is dropped too
    const none = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      cookies: { kith_session_hint: '1' },
      headers: { 'x-kith-csrf': '1' },
    });
    expect(none.statusCode).toBe(401);
    expect(hintOf(none)).toMatch(/^kith_session_hint=;.*Expires=Thu, 01 Jan 1970/);

    // and logging out clears it
    const other = await createUser(app);
    const out = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: other.headers });
    expect(out.statusCode).toBe(204);
    expect(hintOf(out)).toMatch(/^kith_session_hint=;.*Expires=Thu, 01 Jan 1970/);
  });
});
