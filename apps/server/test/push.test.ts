import { execFileSync } from 'node:child_process';
import { createDecipheriv, createECDH, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, importJWK, jwtVerify } from 'jose';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../src/config.ts';
import { PUSH_MAX_ATTEMPTS, PUSH_REMOVE_AFTER_FAILURES } from '../src/modules/push/push-delivery.ts';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { bearer, createUser, GENEROUS_AUTH_LIMITS, login, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { until } from './helpers/wait.ts';
import { connect } from './helpers/ws-client.ts';

// Web Push end to end at the protocol boundary: a local HTTPS push service (a self-signed
// certificate the app trusts through WEB_PUSH_CA_FILE) receives what web-push sends; the test plays
// the browser, decrypting the aes128gcm body (RFC 8291) with the subscription's private key.

const dir = await mkdtemp(join(tmpdir(), 'kith-push-'));
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
  '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
], { stdio: 'ignore' }); // biome-ignore format: one argument list

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
/** What the push service received, and the answers it gives next (default 201), per path. */
const received: Received[] = [];
const answers = new Map<string, { status: number; headers?: Record<string, string> }[]>();

const pushService: Server = createServer(
  { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const answer = answers.get(req.url ?? '')?.shift() ?? { status: 201 };
      res.writeHead(answer.status, answer.headers).end();
    });
  },
);
await new Promise<void>((resolve) => pushService.listen(0, '127.0.0.1', resolve));
const origin = `https://localhost:${(pushService.address() as AddressInfo).port}`;

const t = await buildTestApp({
  ...GENEROUS_AUTH_LIMITS,
  WEB_PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true',
  WEB_PUSH_CA_FILE: join(dir, 'cert.pem'),
  WEB_PUSH_SUBJECT: 'mailto:ops@kith.example',
});
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
// the production rules: loopback and private endpoints refused
const strict = await buildTestApp(GENEROUS_AUTH_LIMITS);

afterAll(async () => {
  await new Promise((resolve) => pushService.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const db = t.platform.db.primary;

/** A browser's subscription: its ECDH key pair and auth secret, and the endpoint at the push service. */
function browser(path = `/push/${randomBytes(8).toString('hex')}`) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    path,
    ecdh,
    auth,
    json: {
      endpoint: `${origin}${path}`,
      expirationTime: null,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    },
  };
}

/** RFC 8291 + RFC 8188 (aes128gcm, one record), as the browser decrypts a push. */
function decrypt(sub: ReturnType<typeof browser>, body: Buffer): unknown {
  const salt = body.subarray(0, 16);
  const idLength = body.readUInt8(20);
  const serverKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const shared = sub.ecdh.computeSecret(serverKey);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), sub.ecdh.getPublicKey(), serverKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, sub.auth, info, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(-16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
  let end = padded.length - 1;
  while (padded[end] === 0) end--;
  expect(padded[end]).toBe(2); // the last record's delimiter
  return JSON.parse(padded.subarray(0, end).toString('utf8'));
}

const subscribe = (app: TestApp, user: TestUser, payload: unknown) =>
  app.app.inject({
    method: 'PUT',
    url: '/api/v1/push/subscription',
    headers: user.headers,
    payload: payload as object,
  });

/** A friend request from `from` to `to`: a notification for `to` once the jobs ran. */
async function friendRequest(from: TestUser, to: TestUser) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/friend-requests',
    headers: from.headers,
    payload: { username: to.username },
  });
  expect(res.statusCode).toBe(201);
}

/**
 * push.deliver jobs waiting to run. A job that ran may still be listed for a moment after runJobs
 * returns (graphile-worker records completions without waiting for them): it is locked, so left out.
 */
const pushJobs = () =>
  sql<{ id: string; run_at: Date }>`SELECT id, run_at FROM graphile_worker.jobs
     WHERE task_identifier = 'push.deliver' AND locked_at IS NULL`
    .execute(db)
    .then((r) => r.rows);
const subscriptionsOf = (userId: string) =>
  db.selectFrom('push_subscriptions').selectAll().where('user_id', '=', userId).execute();

describe('Web Push delivery', () => {
  it('pushes a new notification, encrypted to the subscription and signed with VAPID', async () => {
    const [ana, ben] = [await createUser(t, { displayName: 'Ana' }), await createUser(t)];
    const key = await t.app.inject({ method: 'GET', url: '/api/v1/push/key', headers: ben.headers });
    expect(key.statusCode).toBe(200);
    const { publicKey } = key.json();
    const device = browser();
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);

    await friendRequest(ana, ben);
    await runJobs(t);

    const pushes = received.filter((r) => r.path === device.path);
    expect(pushes).toHaveLength(1);
    const push = pushes[0]!;
    expect(push.headers).toMatchObject({
      'content-encoding': 'aes128gcm',
      ttl: String(24 * 3600),
      urgency: 'normal',
    });
    expect(decrypt(device, push.body)).toEqual({
      type: 'friend_request',
      id: expect.any(String),
      text: 'Ana sent you a friend request',
      url: '/friends',
    });
    // VAPID (RFC 8292): a JWT for the push service's origin, signed by the key GET /push/key gave
    const [, token, k] = /^vapid t=([^,]+), k=(.+)$/.exec(String(push.headers.authorization)) ?? [];
    expect(k).toBe(publicKey);
    const raw = Buffer.from(publicKey, 'base64url');
    const jwk = await importJWK(
      {
        kty: 'EC',
        crv: 'P-256',
        x: raw.subarray(1, 33).toString('base64url'),
        y: raw.subarray(33).toString('base64url'),
      },
      'ES256',
    );
    await jwtVerify(token!, jwk, { audience: origin });
    expect(decodeJwt(token!).sub).toBe('mailto:ops@kith.example');
    const [sub] = await subscriptionsOf(ben.id);
    expect(sub?.last_success_at).toBeInstanceOf(Date);
    expect(sub?.failure_count).toBe(0);
  });

  it('sends nothing to a user with a live socket', async () => {
    const [ana, ben] = [await createUser(t), await createUser(t)];
    const device = browser();
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    const socket = await connect(base, ben.accessToken, { resume: {} });
    const presence = t.services.realtime.presence;
    await until(() => presence.isConnected(ben.id), { what: 'presence of the socket' });
    await friendRequest(ana, ben);
    await runJobs(t);
    expect(received.filter((r) => r.path === device.path)).toEqual([]);
    expect(await pushJobs()).toEqual([]);
    // the socket heard it instead
    expect(await socket.waitFor('notification.new')).toMatchObject({
      notification: { kind: 'friend_request' },
    });
    await socket.close();
    await until(async () => !(await presence.isConnected(ben.id)), { what: 'presence gone' });
    // offline again: the next one is pushed
    await friendRequest(await createUser(t), ben);
    await runJobs(t);
    expect(received.filter((r) => r.path === device.path)).toHaveLength(1);
  });

  it('removes a subscription whose push service answers 410 Gone', async () => {
    const [ana, ben] = [await createUser(t), await createUser(t)];
    const device = browser();
    answers.set(device.path, [{ status: 410 }]);
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    await friendRequest(ana, ben);
    await runJobs(t);
    expect(received.filter((r) => r.path === device.path)).toHaveLength(1);
    expect(await subscriptionsOf(ben.id)).toEqual([]);
  });

  it('removes a subscription whose stored endpoint the rules now refuse, without failing the job', async () => {
    const ben = await createUser(t);
    const device = browser();
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    const [sub] = await subscriptionsOf(ben.id);
    // accepted once, refused now (checkEndpoint throws synchronously for a non-https URL)
    await db
      .updateTable('push_subscriptions')
      .set({ endpoint: device.json.endpoint.replace('https:', 'http:') })
      .where('id', '=', sub!.id)
      .execute();
    const payload = { type: 'friend_request' as const, id: randomUUID(), text: 'x', url: '/friends' };
    await expect(t.services.push.delivery.deliver({ subscriptionId: sub!.id, payload })).resolves.toBe(
      'refused',
    );
    expect(await subscriptionsOf(ben.id)).toEqual([]);
    expect(received.filter((r) => r.path === device.path)).toEqual([]);
  });

  it('retries after 429 no sooner than Retry-After, then delivers', async () => {
    const [ana, ben] = [await createUser(t), await createUser(t)];
    const device = browser();
    answers.set(device.path, [{ status: 429, headers: { 'retry-after': '120' } }]);
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    await friendRequest(ana, ben);
    const before = Date.now();
    await runJobs(t);
    const after = Date.now();
    expect(received.filter((r) => r.path === device.path)).toHaveLength(1);
    const [retry, ...more] = await pushJobs();
    expect(more).toEqual([]);
    expect(retry!.run_at.getTime()).toBeGreaterThanOrEqual(before + 120_000);
    expect(retry!.run_at.getTime()).toBeLessThanOrEqual(after + 120_000);
    const [held] = await subscriptionsOf(ben.id);
    expect(held).toMatchObject({ failure_count: 1 });
    expect(held!.next_attempt_at!.getTime()).toBe(retry!.run_at.getTime());

    // the two minutes pass
    await db
      .updateTable('push_subscriptions')
      .set({ next_attempt_at: sql`now()` })
      .where('id', '=', held!.id)
      .execute();
    await sql`SELECT graphile_worker.reschedule_jobs(ARRAY[${retry!.id}]::bigint[], run_at => now())`.execute(
      db,
    );
    await runJobs(t);
    const pushes = received.filter((r) => r.path === device.path);
    expect(pushes).toHaveLength(2);
    expect(decrypt(device, pushes[1]!.body)).toMatchObject({ type: 'friend_request' });
    expect(await subscriptionsOf(ben.id)).toMatchObject([{ failure_count: 0, next_attempt_at: null }]);
    expect(await pushJobs()).toEqual([]);
  });

  it('retries a 5xx with backoff; after the last attempt the failing subscription is removed', async () => {
    const [ana, ben] = [await createUser(t), await createUser(t)];
    const device = browser();
    answers.set(device.path, [{ status: 503 }, { status: 502 }]);
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    await friendRequest(ana, ben);
    const before = Date.now();
    await runJobs(t);
    const after = Date.now();
    const [retry] = await pushJobs();
    // no Retry-After: within the first backoff step (30 s, full jitter), and other pushes to the
    // device are not held
    expect(retry!.run_at.getTime()).toBeGreaterThanOrEqual(before);
    expect(retry!.run_at.getTime()).toBeLessThanOrEqual(after + 30_000);
    const [sub] = await subscriptionsOf(ben.id);
    expect(sub).toMatchObject({ failure_count: 1, next_attempt_at: null });
    await sql`DELETE FROM graphile_worker._private_jobs WHERE id = ${retry!.id}`.execute(db);

    const payload = { type: 'friend_request' as const, id: randomUUID(), text: 'x', url: '/friends' };
    const delivery = t.services.push.delivery;
    expect(await delivery.deliver({ subscriptionId: sub!.id, payload, attempt: PUSH_MAX_ATTEMPTS })).toBe(
      'removed_failing',
    );
    expect(await pushJobs()).toEqual([]);
    expect(await subscriptionsOf(ben.id)).toEqual([]);
    // a push queued for it before it went costs nothing more
    expect(await delivery.deliver({ subscriptionId: sub!.id, payload })).toBeUndefined();
    expect(received.filter((r) => r.path === device.path)).toHaveLength(2);
  });

  it('removes a subscription after PUSH_REMOVE_AFTER_FAILURES consecutive failures across pushes', async () => {
    const ben = await createUser(t);
    const device = browser();
    answers.set(
      device.path,
      Array.from({ length: PUSH_REMOVE_AFTER_FAILURES }, () => ({ status: 500 })),
    );
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    const [sub] = await subscriptionsOf(ben.id);
    const delivery = t.services.push.delivery;
    // first attempts of different pushes: none has used up its own attempts
    for (let i = 1; i < PUSH_REMOVE_AFTER_FAILURES; i++) {
      const payload = { type: 'friend_request' as const, id: randomUUID(), text: 'x', url: '/friends' };
      expect(await delivery.deliver({ subscriptionId: sub!.id, payload })).toBe('retry');
    }
    expect(await subscriptionsOf(ben.id)).toMatchObject([{ failure_count: PUSH_REMOVE_AFTER_FAILURES - 1 }]);
    const payload = { type: 'friend_request' as const, id: randomUUID(), text: 'x', url: '/friends' };
    expect(await delivery.deliver({ subscriptionId: sub!.id, payload })).toBe('removed_failing');
    expect(await subscriptionsOf(ben.id)).toEqual([]);
    // the retries queued on the way (due now) find no subscription: nothing more is sent or requeued
    await sql`SELECT graphile_worker.reschedule_jobs(array_agg(id), run_at => now())
      FROM graphile_worker.jobs WHERE task_identifier = 'push.deliver' AND locked_at IS NULL`.execute(db);
    await runJobs(t);
    expect(received.filter((r) => r.path === device.path)).toHaveLength(PUSH_REMOVE_AFTER_FAILURES);
    expect(await pushJobs()).toEqual([]);
    const metrics = await t.platform.metrics.registry.getSingleMetricAsString('kith_push_deliveries_total');
    expect(metrics).toMatch(/outcome="removed_failing"} [1-9]/);
  });

  it('keeps a subscription whose last attempt met a 429 pause (the push is given up)', async () => {
    const ben = await createUser(t);
    const device = browser();
    answers.set(device.path, [{ status: 429, headers: { 'retry-after': '60' } }]);
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    const [sub] = await subscriptionsOf(ben.id);
    const payload = { type: 'friend_request' as const, id: randomUUID(), text: 'x', url: '/friends' };
    expect(
      await t.services.push.delivery.deliver({
        subscriptionId: sub!.id,
        payload,
        attempt: PUSH_MAX_ATTEMPTS,
      }),
    ).toBe('gave_up');
    expect(await subscriptionsOf(ben.id)).toMatchObject([{ id: sub!.id, failure_count: 1 }]);
    expect(await pushJobs()).toEqual([]);
  });

  it('spreads the pushes a pause held over a window after it, not all at its end', async () => {
    const ben = await createUser(t);
    const device = browser();
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    const [sub] = await subscriptionsOf(ben.id);
    const hold = new Date(Date.now() + 120_000);
    await db
      .updateTable('push_subscriptions')
      .set({ next_attempt_at: hold })
      .where('id', '=', sub!.id)
      .execute();
    const payload = { type: 'friend_request' as const, id: randomUUID(), text: 'x', url: '/friends' };
    const before = Date.now();
    for (let i = 0; i < 3; i++)
      expect(await t.services.push.delivery.deliver({ subscriptionId: sub!.id, payload })).toBeUndefined();
    const jobs = await pushJobs();
    expect(jobs).toHaveLength(3);
    for (const job of jobs) {
      expect(job.run_at.getTime()).toBeGreaterThanOrEqual(hold.getTime());
      // the window is as long as the pause that was left (at most the 120 s)
      expect(job.run_at.getTime()).toBeLessThanOrEqual(hold.getTime() + (hold.getTime() - before));
    }
    expect(received.filter((r) => r.path === device.path)).toEqual([]);
    await sql`DELETE FROM graphile_worker._private_jobs WHERE id = ANY(${jobs.map((j) => j.id)}::bigint[])`.execute(
      db,
    );
  });

  it('counts deliveries by outcome', async () => {
    const metrics = await t.platform.metrics.registry.getSingleMetricAsString('kith_push_deliveries_total');
    expect(metrics).toMatch(/outcome="sent"} [1-9]/);
    expect(metrics).toMatch(/outcome="gone"} [1-9]/);
    expect(metrics).toMatch(/outcome="retry"} [1-9]/);
  });

  it('is stopped by the web-push flag', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const [ana, ben] = [await createUser(t), await createUser(t)];
    const device = browser();
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    const off = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/admin/flags/web-push',
      headers: admin.headers,
      payload: { enabled: false },
    });
    expect(off.statusCode, off.body).toBe(200);
    try {
      const key = await t.app.inject({ method: 'GET', url: '/api/v1/push/key', headers: ben.headers });
      expect(key.statusCode).toBe(404);
      expect(key.json().error.code).toBe('PUSH_UNAVAILABLE');
      await friendRequest(ana, ben);
      await runJobs(t);
      expect(received.filter((r) => r.path === device.path)).toEqual([]);
      // a push queued (or a retry waiting) before the switch went off is dropped when its job runs
      const [sub] = await subscriptionsOf(ben.id);
      const payload = { type: 'friend_request' as const, id: randomUUID(), text: 'x', url: '/friends' };
      expect(await t.services.push.delivery.deliver({ subscriptionId: sub!.id, payload, attempt: 2 })).toBe(
        'flag_off',
      );
      expect(received.filter((r) => r.path === device.path)).toEqual([]);
      expect(await pushJobs()).toEqual([]);
    } finally {
      await t.app.inject({
        method: 'PUT',
        url: '/api/v1/admin/flags/web-push',
        headers: admin.headers,
        payload: { enabled: true },
      });
    }
  });
});

describe('Web Push subscriptions', () => {
  it('one per session: replaced by a second PUT, removed by DELETE, by logout and by revocation', async () => {
    const ben = await createUser(t);
    const first = browser();
    const second = browser();
    expect((await subscribe(t, ben, first.json)).statusCode).toBe(204);
    expect((await subscribe(t, ben, second.json)).statusCode).toBe(204);
    expect((await subscriptionsOf(ben.id)).map((s) => s.endpoint)).toEqual([second.json.endpoint]);
    const del = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/push/subscription',
      headers: ben.headers,
    });
    expect(del.statusCode).toBe(204);
    expect(await subscriptionsOf(ben.id)).toEqual([]);

    // logout
    expect((await subscribe(t, ben, first.json)).statusCode).toBe(204);
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: ben.headers });
    expect(out.statusCode).toBe(204);
    expect(await subscriptionsOf(ben.id)).toEqual([]);

    // a session revoked from another one
    const signIn = async () => ({
      ...ben,
      headers: bearer((await login(t.app, ben.username, ben.password)).accessToken),
    });
    const laptop = await signIn();
    const phone = await signIn();
    expect((await subscribe(t, laptop, first.json)).statusCode).toBe(204);
    const sessions = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/sessions',
      headers: phone.headers,
    });
    const laptopSession = (await subscriptionsOf(ben.id))[0]!.session_id;
    expect(sessions.json().items.map((s: { id: string }) => s.id)).toContain(laptopSession);
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${laptopSession}`,
      headers: phone.headers,
    });
    expect(revoke.statusCode).toBe(204);
    expect(await subscriptionsOf(ben.id)).toEqual([]);
  });

  it('an endpoint moves to the session that subscribes it last (another user on the same browser)', async () => {
    const [ana, ben] = [await createUser(t), await createUser(t)];
    const device = browser();
    expect((await subscribe(t, ana, device.json)).statusCode).toBe(204);
    expect((await subscribe(t, ben, device.json)).statusCode).toBe(204);
    expect(await subscriptionsOf(ana.id)).toEqual([]);
    expect(await subscriptionsOf(ben.id)).toHaveLength(1);
  });

  it('two sessions subscribing one endpoint at once both succeed; the endpoint stays one row', async () => {
    const [ana, ben, carl] = [await createUser(t), await createUser(t), await createUser(t)];
    const device = browser();
    const carlSession = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', carl.id)
      .executeTakeFirstOrThrow();
    const waiting = () =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'insert into "push_subscriptions"%'`
        .execute(db)
        .then((r) => r.rows[0]!.n);
    // an uncommitted row on the endpoint holds both PUTs at their INSERT, then goes: they race
    let puts: Promise<Awaited<ReturnType<typeof subscribe>>[]> | undefined;
    await db
      .transaction()
      .execute(async (trx) => {
        await trx
          .insertInto('push_subscriptions')
          .values({
            id: randomUUID(),
            user_id: carl.id,
            session_id: carlSession.id,
            endpoint: device.json.endpoint,
            p256dh: device.json.keys.p256dh,
            auth: device.json.keys.auth,
          })
          .execute();
        puts = Promise.all([subscribe(t, ana, device.json), subscribe(t, ben, device.json)]);
        await until(async () => (await waiting()) >= 2, { what: 'both PUTs waiting on the endpoint' });
        throw new Error('rollback');
      })
      .catch((err: Error) => expect(err.message).toBe('rollback'));
    const results = await puts!;
    expect(results.map((r) => r.statusCode)).toEqual([204, 204]);
    const rows = await db
      .selectFrom('push_subscriptions')
      .select(['user_id', 'session_id'])
      .where('endpoint', '=', device.json.endpoint)
      .execute();
    expect(rows).toHaveLength(1);
    expect([ana.id, ben.id]).toContain(rows[0]!.user_id);
  });

  it('a suspended account may still subscribe and unsubscribe (not content: pushes can be turned off)', async () => {
    const ben = await createUser(t);
    await db
      .updateTable('users')
      .set({ suspended_until: sql`now() + interval '1 day'` })
      .where('id', '=', ben.id)
      .execute();
    t.services.users.forget(ben.id);
    const device = browser();
    const put = await subscribe(t, ben, device.json);
    expect(put.statusCode, put.body).toBe(204);
    const del = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/push/subscription',
      headers: ben.headers,
    });
    expect(del.statusCode, del.body).toBe(204);
    expect(await subscriptionsOf(ben.id)).toEqual([]);
    // still suspended for content
    const post = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: ben.headers,
      payload: { body: 'hello' },
    });
    expect(post.statusCode).toBe(403);
  });

  it('needs a signed-in caller', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/push/key'],
      ['PUT', '/api/v1/push/subscription'],
      ['DELETE', '/api/v1/push/subscription'],
    ] as const) {
      const res = await t.app.inject({
        method,
        url,
        ...(method === 'PUT' ? { payload: browser().json } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().error).toMatchObject({ code: 'UNAUTHENTICATED', requestId: expect.any(String) });
    }
  });

  const good = { ...browser().json, endpoint: 'https://updates.push.services.mozilla.com/wpush/v2/abc' };
  const hostile: [string, unknown, string][] = [
    ['not a URL', { ...good, endpoint: 'not a url at all' }, 'INVALID_PUSH_ENDPOINT'],
    ['plain http', { ...good, endpoint: 'http://push.example.com/abc' }, 'INVALID_PUSH_ENDPOINT'],
    ['another scheme', { ...good, endpoint: 'file:///etc/passwd' }, 'INVALID_PUSH_ENDPOINT'],
    [
      'credentials in the URL',
      { ...good, endpoint: 'https://a:b@push.example.com/x' },
      'INVALID_PUSH_ENDPOINT',
    ],
    ['loopback IPv4', { ...good, endpoint: 'https://127.0.0.1:8443/x' }, 'INVALID_PUSH_ENDPOINT'],
    ['loopback IPv6', { ...good, endpoint: 'https://[::1]/x' }, 'INVALID_PUSH_ENDPOINT'],
    ['v4-mapped IPv6', { ...good, endpoint: 'https://[::ffff:10.0.0.1]/x' }, 'INVALID_PUSH_ENDPOINT'],
    ['localhost', { ...good, endpoint: 'https://localhost/x' }, 'INVALID_PUSH_ENDPOINT'],
    ['a private network', { ...good, endpoint: 'https://192.168.1.10/x' }, 'INVALID_PUSH_ENDPOINT'],
    ['cloud metadata', { ...good, endpoint: 'https://169.254.169.254/latest' }, 'INVALID_PUSH_ENDPOINT'],
    ['a decimal IP', { ...good, endpoint: 'https://2130706433/x' }, 'INVALID_PUSH_ENDPOINT'],
    ['a single-label host', { ...good, endpoint: 'https://intranet/x' }, 'INVALID_PUSH_ENDPOINT'],
    [
      'an oversized endpoint',
      { ...good, endpoint: `https://push.example.com/${'a'.repeat(1100)}` },
      'VALIDATION_FAILED',
    ],
    [
      'an oversized p256dh',
      { ...good, keys: { ...good.keys, p256dh: 'A'.repeat(5000) } },
      'VALIDATION_FAILED',
    ],
    ['an oversized auth', { ...good, keys: { ...good.keys, auth: 'A'.repeat(300) } }, 'VALIDATION_FAILED'],
    [
      'p256dh not base64url',
      { ...good, keys: { ...good.keys, p256dh: `${'!'.repeat(87)}` } },
      'VALIDATION_FAILED',
    ],
    [
      'p256dh not a P-256 point',
      { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(65, 7).toString('base64url') } },
      'INVALID_PUSH_KEYS',
    ],
    [
      'auth of 17 bytes',
      { ...good, keys: { ...good.keys, auth: randomBytes(17).toString('base64url') } },
      'INVALID_PUSH_KEYS',
    ],
    ['no keys', { endpoint: good.endpoint }, 'VALIDATION_FAILED'],
    ['an extra property', { ...good, extra: 1 }, 'VALIDATION_FAILED'],
    ['a JSON array', [good], 'VALIDATION_FAILED'],
  ];
  it.each(hostile)('refuses %s with 400 and the error envelope', async (_what, payload, code) => {
    const user = await createUser(strict);
    const res = await subscribe(strict, user, payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({
      code,
      message: expect.any(String),
      requestId: expect.any(String),
    });
    expect(
      await strict.platform.db.primary
        .selectFrom('push_subscriptions')
        .select('id')
        .where('user_id', '=', user.id)
        .execute(),
    ).toEqual([]);
  });

  it('accepts a public https endpoint under the production rules', async () => {
    const user = await createUser(strict);
    const res = await subscribe(strict, user, {
      ...good,
      endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
    });
    expect(res.statusCode, res.body).toBe(204);
  });
});

describe('Web Push configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ NODE_ENV: 'test', ...env });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('refuses the private-endpoint switch in production, half a key pair, and malformed keys or subject', () => {
    expect(problems({ NODE_ENV: 'production', WEB_PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true' })).toContain(
      'WEB_PUSH_ALLOW_PRIVATE_ENDPOINTS: not allowed when NODE_ENV=production',
    );
    expect(problems({ WEB_PUSH_VAPID_PUBLIC_KEY: `B${'A'.repeat(86)}` })).toContain(
      'WEB_PUSH_VAPID_PUBLIC_KEY and WEB_PUSH_VAPID_PRIVATE_KEY: give both or neither',
    );
    const bad = problems({ WEB_PUSH_VAPID_PUBLIC_KEY: 'short', WEB_PUSH_VAPID_PRIVATE_KEY: 'x'.repeat(44) });
    expect(bad.some((p) => p.startsWith('WEB_PUSH_VAPID_PUBLIC_KEY: must be'))).toBe(true);
    expect(bad.some((p) => p.startsWith('WEB_PUSH_VAPID_PRIVATE_KEY: must be'))).toBe(true);
    expect(
      problems({ WEB_PUSH_SUBJECT: 'http://kith.example' }).some((p) => p.startsWith('WEB_PUSH_SUBJECT')),
    ).toBe(true);
  });

  it('takes the subject from an https PUBLIC_URL', () => {
    expect(loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'https://kith.example/' }).push.subject).toBe(
      'https://kith.example',
    );
    expect(loadConfig({ NODE_ENV: 'test' }).push.subject).toBe('mailto:no-reply@localhost');
  });
});
