import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, uniqueUsername } from './helpers/factories.ts';

// The app sits behind a proxy at 10.0.0.1 that reports each client's address in X-Forwarded-For.
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, TRUST_PROXY: '10.0.0.1' });
const { app } = t;
const db = t.platform.db.primary;

const WIFI = '198.51.100.7';
const MOBILE = '203.0.113.42';

const signup = (payload: Record<string, unknown>, key: string | undefined, clientIp: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    remoteAddress: '10.0.0.1',
    headers: {
      'x-forwarded-for': clientIp,
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    payload,
  });

const accounts = async (username: string) =>
  Number(
    (
      await db
        .selectFrom('users')
        .select(db.fn.countAll().as('n'))
        .where('username', '=', username)
        .executeTakeFirstOrThrow()
    ).n,
  );

const newAccount = () => {
  const username = uniqueUsername('idem');
  return { username, email: `${username}@example.com`, password: 'correct horse battery staple' };
};

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.json()).toEqual({
    error: { code, message: expect.any(String), requestId: expect.any(String) },
  });
}

describe('anonymous Idempotency-Key', () => {
  it('replays a sign-up retried from another address (Wi-Fi → mobile data): one account, same 201', async () => {
    const account = newAccount();
    const key = randomUUID();
    const first = await signup(account, key, WIFI);
    expect(first.statusCode, first.body).toBe(201);

    const retry = await signup(account, key, MOBILE);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await accounts(account.username)).toBe(1);

    // the same, with the address given by the connection itself (no proxy in between)
    const direct = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      remoteAddress: '192.0.2.99',
      headers: { 'idempotency-key': key },
      payload: account,
    });
    expect(direct.statusCode).toBe(201);
    expect(direct.headers['idempotent-replayed']).toBe('true');
    expect(direct.json()).toEqual(first.json());
    expect(await accounts(account.username)).toBe(1);
  });

  it('answers 422 for the same key with another body, from any address, without running it', async () => {
    const account = newAccount();
    const key = randomUUID();
    expect((await signup(account, key, WIFI)).statusCode).toBe(201);
    const other = newAccount();
    expectError(await signup(other, key, MOBILE), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectError(await signup(other, key, WIFI), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await accounts(other.username)).toBe(0);
  });

  it('needs the key itself: the same body under another key runs again (and the name is taken)', async () => {
    const account = newAccount();
    const first = await signup(account, randomUUID(), WIFI);
    expect(first.statusCode).toBe(201);
    expectError(await signup(account, randomUUID(), WIFI), 409, 'USERNAME_TAKEN');
    // nothing a database reader could use: neither the raw key nor the tokens are stored in clear
    const key = randomUUID();
    const sealed = await signup(newAccount(), key, WIFI);
    expect(sealed.statusCode).toBe(201);
    const { rows } = await t.platform.db.primaryPool.query('SELECT key, response_body FROM idempotency_keys');
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(sealed.json().refreshToken);
  });

  it('refuses an anonymous key shorter than 16 characters with 400, before running anything', async () => {
    const account = newAccount();
    for (const key of ['1', 'retry-1', 'fifteen-chars!!']) {
      const res = await signup(account, key, WIFI);
      expectError(res, 400, 'INVALID_IDEMPOTENCY_KEY');
      expect(res.json().error.message).toMatch(/at least 16 characters/);
    }
    expect(await accounts(account.username)).toBe(0);
    expect((await signup(account, 'sixteen-chars!!!', WIFI)).statusCode).toBe(201);
  });

  it("keeps a signed-in user's keys their own: short keys allowed, not shared with anyone else", async () => {
    const [alice, bob] = [await createUser(t), await createUser(t)];
    const post = (headers: Record<string, string>, text: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/posts',
        headers: { ...headers, 'idempotency-key': 'k1' },
        payload: { text },
      });
    const a = await post(alice.headers, 'same text');
    expect(a.statusCode, a.body).toBe(201);
    expect((await post(alice.headers, 'same text')).headers['idempotent-replayed']).toBe('true');
    const b = await post(bob.headers, 'same text');
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json().id).not.toBe(a.json().id);
  });
});
