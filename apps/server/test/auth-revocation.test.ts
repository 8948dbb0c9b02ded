import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { SESSION_REVOKED_CHANNEL, USER_CHANGED_CHANNEL } from '../src/modules/auth/session-cache.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createPlatform, type Platform } from '../src/platform/platform.ts';
import { buildTestApp, testConfig } from './helpers/app.ts';
import { bearer, createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { startRedisServer } from './helpers/redis-server.ts';

// Two instances of Kith on one database, talking through a Redis of this test's own.
const redis = await startRedisServer();
const env = {
  ...GENEROUS_AUTH_LIMITS,
  REDIS_URL: redis.url,
  JWT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  }) as string,
};
const a = await buildTestApp(env);
const configB = testConfig(a.databaseUrl, { DATABASE_POOL_SIZE: '3', ...env });
const platformB: Platform = await createPlatform({
  config: configB,
  logger: createLogger('silent'),
  databaseUrl: a.databaseUrl,
});
const b = await buildApp(platformB, { docs: false });
await b.ready();
afterAll(async () => {
  await b.close();
  await platformB.close();
});

const meOn = (app: typeof b, token: string) =>
  app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });

/** Resolves when instance B has received a broker message on `channel` matching `match`. */
async function deliveredToB(
  channel: string,
  match: (m: Record<string, unknown>) => boolean,
): Promise<() => Promise<void>> {
  let resolve!: () => void;
  const arrived = new Promise<void>((r) => {
    resolve = r;
  });
  const off = await platformB.broker.subscribe(channel, (m) => {
    if (match(m as Record<string, unknown>)) resolve();
  });
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${channel} message reached instance B`)), 5_000);
    });
    await Promise.race([arrived, timeout]).finally(() => clearTimeout(timer));
    await off();
  };
}

describe('revocation across instances', () => {
  it('a logout on instance A is refused on instance B once the broker message arrives', async () => {
    const user = await createUser(a.app);
    expect((await meOn(b, user.accessToken)).statusCode).toBe(200); // B now caches the session as live
    expect((await meOn(b, user.accessToken)).statusCode).toBe(200);
    const sessionId = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    const wait = await deliveredToB(SESSION_REVOKED_CHANNEL, (m) => m.sessionId === sessionId);

    expect(
      (await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.headers })).statusCode,
    ).toBe(204);
    await wait();
    const res = await meOn(b, user.accessToken);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('INVALID_TOKEN');
  });

  it('a ban on instance A is refused on instance B', async () => {
    const admin = await createUser(a, { role: 'admin' });
    const user = await createUser(a.app);
    expect((await meOn(b, user.accessToken)).statusCode).toBe(200);
    const wait = await deliveredToB(USER_CHANGED_CHANNEL, (m) => m.userId === user.id);
    const banned = await a.app.inject({
      method: 'POST',
      url: `/api/v1/admin/users/${user.id}/ban`,
      headers: admin.headers,
    });
    expect(banned.statusCode).toBe(200);
    await wait();
    expect((await meOn(b, user.accessToken)).statusCode).toBe(401);
  });

  it('tokens issued by one instance are accepted by the other (one key, one database)', async () => {
    const user = await createUser(b);
    expect((await meOn(a.app, user.accessToken)).statusCode).toBe(200);
  });
});
