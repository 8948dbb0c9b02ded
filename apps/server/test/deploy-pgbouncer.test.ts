import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/database.ts';
import { REPO_DIR, type ServerProcess, spawnServer, stopChild, stopServer } from './helpers/process.ts';
import { connect, eventually } from './helpers/ws-client.ts';

// Kith's api and realtime roles through a real PgBouncer in transaction mode, with a pool far
// smaller than the number of clients, so that consecutive transactions of one client land on
// different server connections: any session state (SET, session advisory locks, named prepared
// statements, LISTEN) would break or leak. The worker role connects directly, as deployed.
const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => existsSync(p));
if (!PGBOUNCER) console.warn('deploy-pgbouncer: skipped, no pgbouncer binary (apt-get install pgbouncer)');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

describe.skipIf(!PGBOUNCER)('Kith through PgBouncer in transaction mode', () => {
  let bouncer: ChildProcess;
  // registered here, not inside beforeAll (a hook registered from a hook never runs): the
  // processes, the database and the directory beforeAll made, undone in reverse order
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  let pooledUrl: string;
  let api: ServerProcess;
  let worker: ServerProcess;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${api.url}/api/v1${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  async function signup() {
    const username = `u_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
    const password = `pw-${randomUUID()}`;
    const res = await call('POST', '/auth/signup', undefined, {
      username,
      email: `${username}@example.com`,
      password,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return {
      id: res.body.user.id as string,
      username,
      password,
      accessToken: res.body.accessToken as string,
    };
  }

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kith-pgbouncer-'));
    const database = await createTestDatabase();
    cleanups.push(async () => {
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    });
    const direct = new URL(database.url);
    // what PgBouncer drops from the startup packet is enforced by the role or the database
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${database.name} SET statement_timeout = '15s'`);
    await admin.end();

    const port = await freePort();
    await writeFile(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `kith = host=${direct.hostname} port=${direct.port || 5432} dbname=${database.name}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${join(dir, 'userlist.txt')}`,
        `logfile = ${join(dir, 'pgbouncer.log')}`,
        `pidfile = ${join(dir, 'pgbouncer.pid')}`,
        `%include ${join(REPO_DIR, 'deploy/pgbouncer/kith-pooling.ini')}`,
        // after the shared settings (the last value wins): a pool much smaller than the app's, so
        // server connections are shared between clients from one transaction to the next
        'default_pool_size = 3',
        'min_pool_size = 0',
        'reserve_pool_size = 0',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'userlist.txt'), `"${direct.username || 'postgres'}" ""\n`);
    // PgBouncer refuses to run as root: in a root CI container it runs as nobody
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('chown', ['-R', '65534:65534', dir]);
    bouncer = spawn(PGBOUNCER!, [join(dir, 'pgbouncer.ini')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let output = '';
    bouncer.stdout!.on('data', (c) => {
      output += c;
    });
    bouncer.stderr!.on('data', (c) => {
      output += c;
    });
    cleanups.push(() => stopChild(bouncer, 'SIGINT')); // safe shutdown first
    const pooled = new URL(database.url);
    pooled.port = String(port);
    pooled.pathname = '/kith';
    pooledUrl = pooled.toString();
    await eventually(async () => {
      if (bouncer.exitCode !== null) throw new Error(`pgbouncer exited:\n${output}`);
      const client = new pg.Client({ connectionString: pooledUrl });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    }, 15_000);

    const signingKey = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const env = {
      DATA_DIR: join(dir, 'data'),
      JWT_SIGNING_KEY: signingKey,
      CHAT_FRIENDS_ONLY: 'false',
      RATE_LIMIT_SIGNUP_IP: '1000000',
      RATE_LIMIT_LOGIN_IP: '1000000',
      RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
      // more clients than PgBouncer has server connections
      DATABASE_POOL_SIZE: '12',
    };
    [api, worker] = await Promise.all([
      spawnServer({ env: { ...env, DATABASE_URL: pooledUrl }, args: ['--role', 'api,realtime'] }),
      spawnServer({ env: { ...env, DATABASE_URL: database.url }, args: ['--role', 'worker'] }),
    ]);
  });

  it('signs up, logs in, posts, fans out by job, reads the feed and chats over the socket', async () => {
    const [a, b] = [await signup(), await signup()];
    const login = await call('POST', '/auth/login', undefined, { login: a.username, password: a.password });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;

    const request = await call('POST', '/friend-requests', token, { username: b.username });
    expect(request.status, JSON.stringify(request.body)).toBeLessThan(300);
    const incoming = await call('GET', '/friend-requests?direction=incoming', b.accessToken);
    expect(incoming.status, JSON.stringify(incoming.body)).toBe(200);
    const requestId = incoming.body.items[0].id as string;
    const accepted = await call('POST', `/friend-requests/${requestId}/accept`, b.accessToken);
    expect(accepted.status, JSON.stringify(accepted.body)).toBeLessThan(300);

    const post = await call('POST', '/posts', token, {
      text: 'through the pooler #pgbouncer',
      visibility: 'friends',
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    // fan-out to b's feed is a job: enqueued in the post's transaction (through PgBouncer), run by
    // the worker (direct connection)
    await eventually(async () => {
      const feed = await call('GET', '/feed', b.accessToken);
      return feed.status === 200 && feed.body.items.some((p: { id: string }) => p.id === post.body.id);
    }, 20_000);
    const jobs = worker.logs.filter((l) => l.component === 'job' && l.status === 'ok');
    expect(jobs.length).toBeGreaterThan(0);

    const conversation = await call('POST', '/conversations', token, { usernames: [b.username] });
    expect(conversation.status).toBeLessThan(300);
    const [sa, sb] = [await connect(api.url, token), await connect(api.url, b.accessToken)];
    const clientMessageId = randomUUID();
    sa.send({
      type: 'message.send',
      conversationId: conversation.body.id,
      clientMessageId,
      body: 'pooled hello',
    });
    await sa.waitFor('message.ack', (ack) => ack.clientMessageId === clientMessageId);
    const received = await sb.waitFor('message.new');
    expect(received.message).toMatchObject({ body: 'pooled hello', seq: 1 });
    await Promise.all([sa.close(), sb.close()]);
  });

  it('keeps working under concurrent load on three server connections', async () => {
    const users = await Promise.all(Array.from({ length: 8 }, () => signup()));
    const results = await Promise.all(
      users.flatMap((u) => [
        call('POST', '/posts', u.accessToken, { text: `load ${u.username}` }),
        call('GET', '/me', u.accessToken),
        call('GET', '/feed', u.accessToken),
      ]),
    );
    expect(results.map((r) => r.status).filter((s) => s >= 300)).toEqual([]);
  });

  it('answers bad input with a 4xx in the error shape, not a pooler failure', async () => {
    const res = await call('POST', '/auth/login', undefined, { login: 'x' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.any(String), requestId: expect.any(String) },
    });
    const readyz = await fetch(`${api.url}/readyz`);
    expect(readyz.status).toBe(200);
  });

  it('leaves no session state on the pooled connections', async () => {
    // every server connection PgBouncer holds: no advisory lock, no prepared statement, no LISTEN
    const client = new pg.Client({ connectionString: pooledUrl });
    await client.connect();
    try {
      const locks = await client.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database =
           (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(locks.rows[0].n).toBe(0);
      const prepared = await client.query('SELECT count(*)::int AS n FROM pg_prepared_statements');
      expect(prepared.rows[0].n).toBe(0);
      const timeout = await client.query('SHOW statement_timeout');
      expect(timeout.rows[0].statement_timeout).toBe('15s');
    } finally {
      await client.end();
    }
    expect((await stopServer(api)).code).toBe(0);
    expect((await stopServer(worker)).code).toBe(0);
  });
});
