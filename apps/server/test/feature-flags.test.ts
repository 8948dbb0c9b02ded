import { ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditService } from '../src/modules/audit/audit.service.ts';
import { FlagsService } from '../src/modules/flags/flags.service.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createPlatform, type Platform } from '../src/platform/platform.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser } from './helpers/factories.ts';
import { platformHealth, startRedisServer, waitForHealth } from './helpers/redis-server.ts';

const logger = createLogger('silent');
const meta = { ip: '127.0.0.1', userAgent: 'test' };
const users = Array.from(
  { length: 1000 },
  (_, i) => `0190d2c4-0000-7000-8000-${String(i).padStart(12, '0')}`,
);

/**
 * Resolves when `probe` holds on `flags`, re-checking after each OpenFeature ConfigurationChanged
 * event of that instance (a reload that changed something); returns the milliseconds it took.
 */
async function until(
  what: string,
  flags: FlagsService,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const changed = new Promise<void>((resolve) => {
      const handler = () => {
        flags.client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
        resolve();
      };
      flags.client.addHandler(ProviderEvents.ConfigurationChanged, handler);
    });
    if (await probe()) return performance.now() - started;
    const left = timeoutMs - (performance.now() - started);
    if (left <= 0) throw new Error(`timed out waiting for ${what}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      changed,
      new Promise((resolve) => {
        timer = setTimeout(resolve, left);
      }),
    ]);
    clearTimeout(timer);
  }
}

const redis = await startRedisServer();
const t = await buildTestApp({ REDIS_URL: redis.url });
// a second instance: its own platform (pools, Redis connections) on the same database
const second: Platform = await createPlatform({
  config: t.platform.config,
  logger,
  databaseUrl: t.databaseUrl,
});
const instance = (platform: Platform) =>
  new FlagsService({
    db: platform.db.primary,
    broker: platform.broker,
    audit: new AuditService(platform.db.primary),
    logger,
    refresh: { fullRefreshMs: 30_000, degradedRefreshMs: 100 },
  });
const a = instance(t.platform);
const b = instance(second);
await Promise.all([a.start(), b.start()]);
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
  await second.close();
});

const share = async (flags: FlagsService, key: string) => {
  let on = 0;
  for (const u of users) if (await flags.isEnabled(key, { targetingKey: u })) on++;
  return on / users.length;
};

// evaluations over 1,000 users and a Redis restart: minutes on a loaded machine
describe('feature flags across two instances', { timeout: 120_000 }, () => {
  it('a percentage rollout gives every user the same answer on both instances, and grows without flipping anyone', async () => {
    const admin = '0190d2c4-0000-7000-8000-00000000a0a0';
    await a.put(admin, 'feed.new-posts-pill', { rollout: [{ variant: 'on', percent: 25 }] }, meta);
    await until('instance b to see the rollout', b, async () => (await share(b, 'feed.new-posts-pill')) > 0);
    const onA = await Promise.all(users.map((u) => a.isEnabled('feed.new-posts-pill', { targetingKey: u })));
    const onB = await Promise.all(users.map((u) => b.isEnabled('feed.new-posts-pill', { targetingKey: u })));
    expect(onB).toEqual(onA);
    const quarter = onA.filter(Boolean).length / users.length;
    expect(quarter).toBeGreaterThan(0.2);
    expect(quarter).toBeLessThan(0.3);

    await b.put(admin, 'feed.new-posts-pill', { rollout: [{ variant: 'on', percent: 60 }] }, meta);
    await until('instance a to see 60 %', a, async () => (await share(a, 'feed.new-posts-pill')) > 0.5);
    const grown = await Promise.all(
      users.map((u) => a.isEnabled('feed.new-posts-pill', { targetingKey: u })),
    );
    onA.forEach((was, i) => {
      if (was) expect(grown[i]).toBe(true);
    });

    // role targeting wins over the rollout
    await a.put(admin, 'feed.new-posts-pill', { roleRules: [{ roles: ['admin'], variant: 'on' }] }, meta);
    await until('instance b to see the role rule', b, () =>
      b.isEnabled('feed.new-posts-pill', { targetingKey: users.find((_, i) => !grown[i]), role: 'admin' }),
    );

    // the kill switch: off for everyone, on every instance
    await a.put(admin, 'feed.new-posts-pill', { enabled: false }, meta);
    const killedAfterMs = await until(
      'instance b to see the kill switch',
      b,
      async () => (await share(b, 'feed.new-posts-pill')) === 0,
    );
    expect(await b.isEnabled('feed.new-posts-pill', { role: 'admin' })).toBe(false);
    console.info(`kill switch seen by the other instance after ${Math.round(killedAfterMs)} ms`);

    // every change is in the audit log with what it was before
    const audit = await t.platform.db.primary
      .selectFrom('audit_log')
      .select(['action', 'target_id'])
      .where('target_type', '=', 'flag')
      .execute();
    expect(audit.map((e) => e.action)).toEqual(['flag.create', 'flag.update', 'flag.update', 'flag.update']);
  });

  it('reaches an instance whose broker is down by polling Postgres', async () => {
    const admin = '0190d2c4-0000-7000-8000-00000000a0a1';
    await a.put(admin, 'chat.read-receipts', { rollout: [{ variant: 'on', percent: 100 }] }, meta);
    await until('b sees it', b, () => b.isEnabled('chat.read-receipts', { targetingKey: users[0] }));
    await redis.kill(); // nothing is published or delivered until it is back
    try {
      await waitForHealth(platformHealth(second), false);
      await a.put(admin, 'chat.read-receipts', { enabled: false }, meta);
      await until(
        'b to poll the change',
        b,
        async () => !(await b.isEnabled('chat.read-receipts', { targetingKey: users[0] })),
      );
    } finally {
      await redis.restart();
      await waitForHealth(platformHealth(second), true);
    }
  });

  it('unknown flags and wrong types fall back to the default value', async () => {
    expect(await a.isEnabled('no.such-flag', { targetingKey: users[0] })).toBe(false);
    const details = await a.client.getStringDetails('feed.new-posts-pill', 'fallback', {
      targetingKey: users[0]!,
    });
    expect(details.value).toBe('fallback');
    expect(details.errorCode).toBe('TYPE_MISMATCH');
    await expect(
      a.put(
        '0190d2c4-0000-7000-8000-00000000a0a0',
        'bad.flag',
        { rollout: [{ variant: 'nope', percent: 5 }] },
        meta,
      ),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      a.put(
        '0190d2c4-0000-7000-8000-00000000a0a0',
        'bad.flag',
        {
          rollout: [
            { variant: 'on', percent: 70 },
            { variant: 'off', percent: 40 },
          ],
        },
        meta,
      ),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('flags over HTTP', () => {
  it('admins manage flags; clients read the visible ones evaluated for them; others are refused', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const user = await createUser(t);
    const put = (who: { headers: Record<string, string> }, key: string, payload: unknown) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/v1/admin/flags/${key}`,
        headers: who.headers,
        payload: payload as object,
      });

    const created = await put(admin, 'web.compose-v2', {
      description: 'The new composer',
      clientVisible: true,
      roleRules: [{ roles: ['admin'], variant: 'on' }],
    });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json()).toMatchObject({
      key: 'web.compose-v2',
      enabled: true,
      defaultVariant: 'off',
      clientVisible: true,
    });
    await put(admin, 'server.hidden', { rollout: [{ variant: 'on', percent: 100 }] });

    const mine = await t.app.inject({ method: 'GET', url: '/api/v1/flags', headers: admin.headers });
    // the shipped feed-new-posts-event flag (migration 0037) is client-visible too, rolled out to nobody
    expect(mine.json().flags).toEqual({
      'feed-new-posts-event': { value: false, variant: 'off', reason: 'DEFAULT' },
      'web.compose-v2': { value: true, variant: 'on', reason: 'TARGETING_MATCH' },
    });
    const theirs = await t.app.inject({ method: 'GET', url: '/api/v1/flags', headers: user.headers });
    expect(theirs.json().flags['web.compose-v2']).toMatchObject({ value: false, reason: 'DEFAULT' });
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/flags' });
    expect(anonymous.statusCode).toBe(200);
    expect(Object.keys(anonymous.json().flags).sort()).toEqual(['feed-new-posts-event', 'web.compose-v2']);

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/admin/flags', headers: admin.headers });
    expect(list.json().items.map((f: { key: string }) => f.key)).toEqual(
      expect.arrayContaining(['web.compose-v2', 'server.hidden']),
    );

    const forbidden = await put(user, 'web.compose-v2', { enabled: false });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toMatchObject({ code: 'FORBIDDEN', requestId: expect.any(String) });
    for (const [key, payload] of [
      ['Not_A_Key', {}],
      ['web.compose-v2', { rollout: [{ variant: 'on', percent: 101 }] }],
      ['web.compose-v2', { defaultVariant: 'missing' }],
      ['web.compose-v2', { variants: [] }],
      ['web.compose-v2', { variants: { on: true } }],
      [
        'web.compose-v2',
        {
          variants: [
            { name: 'on', value: true },
            { name: 'on', value: false },
          ],
        },
      ],
      ['web.compose-v2', { surprise: true }],
    ] as const) {
      const bad = await put(admin, key, payload);
      expect(bad.statusCode, `${key} ${JSON.stringify(payload)}`).toBe(400);
      expect(bad.json().error.requestId).toEqual(expect.any(String));
    }

    const removed = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/admin/flags/server.hidden',
      headers: admin.headers,
    });
    expect(removed.statusCode).toBe(204);
    const again = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/admin/flags/server.hidden',
      headers: admin.headers,
    });
    expect(again.statusCode).toBe(404);
  });
});
