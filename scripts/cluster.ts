/**
 * `npm run cluster` — the scaled shape on one machine, for drills and load tests: PostgreSQL
 * primary + streaming replica (pg_basebackup), PgBouncer in transaction mode in front of both,
 * Redis, s3rver for media, two `api,realtime` Kith instances and one `worker`, and nginx from
 * deploy/nginx with TLS in front. Every link from Kith to PostgreSQL, PgBouncer and Redis is TLS
 * with certificates made here (`sslmode=verify-full`, `rediss://`).
 *
 * The script supervises what it starts and stops all of it on Ctrl-C / SIGTERM, or from another
 * terminal with `npm run cluster -- --down`. Nothing is left behind: PostgreSQL's clusters are
 * stopped with pg_ctl, the others are child processes in their own process groups.
 *
 *   CLUSTER_PORT   nginx's HTTPS port (default 8443); HTTP (redirect) is CLUSTER_PORT + 1
 *   CLUSTER_DIR    where data, certificates and logs go (default ./data/cluster, wiped at start)
 *   CLUSTER_REPLICA_MAX_LAG_MS  the instances' DATABASE_REPLICA_MAX_LAG_MS (default 2000): feed
 *                  reads go to the replica (through PgBouncer) while its replay lag is under it
 *   CLUSTER_KITH_<NAME>  passed to every Kith instance as <NAME> (e.g. CLUSTER_KITH_RATE_LIMIT_SIGNUP_IP)
 *
 *   --load         the load-test rate limits (LOAD_LIMITS below) instead of production's: the
 *                  benches' users all sign up and log in from 127.0.0.1, which production's per-IP
 *                  limits answer with 429 (`npm run slo`, `capacity`, `soak`, `drills` attached to a
 *                  cluster check cluster.json's `rateLimits` and refuse a production-limited one)
 *   --db-link      PgBouncer reaches the primary through a relay in this process whose
 *                  primary→PgBouncer direction the control channel can delay (`{"action":"link",
 *                  "delayMs":"200"}`): the pg-latency drill's "the database is slow to reach".
 *                  (`tc netem` would do it in the kernel; this machine's kernel has no netem.)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DelayLink } from './delay-link.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = resolve(process.env.CLUSTER_DIR ?? join(ROOT, 'data/cluster'));
const HTTPS_PORT = Number(process.env.CLUSTER_PORT ?? 8443);
const STATE = join(DIR, 'cluster.json');
const HOST = '127.0.0.1';
const PG_BIN = (() => {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest ? join(base, newest, 'bin') : '';
})();
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync);
const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find(existsSync);
const DB_LINK = process.argv.includes('--db-link') || process.env.CLUSTER_DB_LINK === '1';

/** `--load`: what the benches need, all their traffic coming from 127.0.0.1 as fresh unverified sign-ups. */
const LOAD_LIMITS: Record<string, string> = {
  CLUSTER_KITH_RATE_LIMIT_SIGNUP_IP: '1000000',
  CLUSTER_KITH_RATE_LIMIT_LOGIN_IP: '1000000',
  CLUSTER_KITH_RATE_LIMIT_LOGIN_ACCOUNT: '10000',
  CLUSTER_KITH_RATE_LIMIT_UNVERIFIED_PER_HOUR: '0',
  CLUSTER_AUTH_RATE: '5000r/s',
  CLUSTER_AUTH_BURST: '5000',
};
if (process.argv.includes('--load') || process.env.CLUSTER_LOAD === '1')
  for (const [key, value] of Object.entries(LOAD_LIMITS)) process.env[key] ??= value;
/** What cluster.json says about the limits: `load` (all of LOAD_LIMITS at least as high), `production` (none set), else `custom`. */
const RATE_LIMITS = Object.keys(LOAD_LIMITS).every((k) => process.env[k] === LOAD_LIMITS[k])
  ? 'load'
  : Object.keys(LOAD_LIMITS).some((k) => process.env[k] !== undefined)
    ? 'custom'
    : 'production';

/** PostgreSQL, PgBouncer and nginx refuse to run as root: as root, they run as these users. */
const asRoot = userInfo().uid === 0;
const idOf = (name: string) =>
  asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim()),
        gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim()),
      }
    : undefined;
const POSTGRES_USER = idOf('postgres');
const NOBODY = asRoot ? { uid: 65534, gid: 65534 } : undefined;

interface State {
  supervisor: number;
  pgDataDirs: string[];
  children: Record<string, number>;
  urls: Record<string, string>;
  /** `load` (`--load`), `production` or `custom`: the benches refuse `production` (signup 429). */
  rateLimits: 'load' | 'production' | 'custom';
  /** Whether PgBouncer reaches the primary through the delayable relay (`--db-link`). */
  dbLink: boolean;
  /** The instances' METRICS_TOKEN (a local test cluster's), for the benches attached to it. */
  metricsToken?: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

function run(
  cmd: string,
  args: string[],
  opts: { as?: { uid: number; gid: number }; env?: NodeJS.ProcessEnv } = {},
) {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.as ?? {}),
    // another user must not look for client certificates under root's home
    env: { ...process.env, ...(opts.as ? { HOME: '/nonexistent' } : {}), ...opts.env },
  });
}

async function own(path: string, who: { uid: number; gid: number } | undefined, mode?: number) {
  if (who) await chown(path, who.uid, who.gid);
  if (mode !== undefined) await chmod(path, mode);
}

interface StartOptions {
  env?: NodeJS.ProcessEnv;
  as?: { uid: number; gid: number };
  ready?: RegExp;
  timeoutMs?: number;
}

/** A supervised child: its log goes to DIR/logs/<name>.log; it is in its own process group. */
class Children {
  readonly all = new Map<string, ChildProcess>();
  /** How each child was started: `restart` (the drills' control channel) starts it the same way. */
  readonly specs = new Map<string, { cmd: string; args: string[]; opts: StartOptions }>();
  stopping = false;

  async start(name: string, cmd: string, args: string[], opts: StartOptions = {}): Promise<ChildProcess> {
    this.specs.set(name, { cmd, args, opts });
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.as ?? {}),
    });
    this.all.set(name, child);
    const log = join(DIR, 'logs', `${name}.log`);
    let seen = '';
    const { appendFile } = await import('node:fs/promises');
    const onData = (chunk: Buffer) => {
      void appendFile(log, chunk);
      if (seen.length < 1_000_000) seen += chunk.toString('utf8');
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      if (!this.stopping) say(`!! ${name} exited (${signal ?? code}); see ${log}`);
    });
    if (opts.ready) {
      const pattern = opts.ready;
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`${name} not ready within ${opts.timeoutMs ?? 60_000} ms; see ${log}`)),
          opts.timeoutMs ?? 60_000,
        );
        const check = () => {
          if (pattern.test(seen)) {
            clearTimeout(timer);
            ok();
          }
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', (code) => {
          clearTimeout(timer);
          fail(new Error(`${name} exited (${code}) before it was ready; see ${log}`));
        });
        check();
      });
    }
    return child;
  }

  /** Stops one child: `signal`, then SIGKILL to its group after `graceMs`. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
    const child = this.all.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    try {
      process.kill(-child.pid, signal);
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }
}

async function makeCertificates() {
  const certs = join(DIR, 'certs');
  await mkdir(certs, { recursive: true });
  const ca = { key: join(certs, 'ca.key'), cert: join(certs, 'ca.crt') };
  const server = {
    key: join(certs, 'server.key'),
    cert: join(certs, 'server.crt'),
    csr: join(certs, 'server.csr'),
  };
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=Kith local cluster CA',
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
  ]);
  run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    server.key,
    '-out',
    server.csr,
  ]);
  const ext = join(certs, 'server.ext');
  await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  run('openssl', [
    'x509',
    '-req',
    '-in',
    server.csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '30',
    '-extfile',
    ext,
    '-out',
    server.cert,
  ]);
  // each server reads its own copy of the key (PostgreSQL insists on owning it, mode 0600)
  const copyFor = async (who: string, owner: { uid: number; gid: number } | undefined) => {
    const dir = join(certs, who);
    await mkdir(dir);
    await writeFile(join(dir, 'server.key'), await readFile(server.key));
    await writeFile(join(dir, 'server.crt'), await readFile(server.cert));
    await own(dir, owner, 0o700);
    await own(join(dir, 'server.key'), owner, 0o600);
    await own(join(dir, 'server.crt'), owner, 0o644);
    return { key: join(dir, 'server.key'), cert: join(dir, 'server.crt') };
  };
  await chmod(certs, 0o755);
  await chmod(ca.cert, 0o644);
  return {
    ca: ca.cert,
    postgres: await copyFor('postgres', POSTGRES_USER),
    nginx: await copyFor('nginx', NOBODY),
    redis: await copyFor('redis', undefined),
  };
}

async function up(): Promise<void> {
  if (!PG_BIN || !NGINX || !PGBOUNCER) {
    throw new Error(
      `missing binaries: ${[!PG_BIN && 'postgresql', !NGINX && 'nginx', !PGBOUNCER && 'pgbouncer'].filter(Boolean).join(', ')} (apt-get install -y postgresql nginx pgbouncer)`,
    );
  }
  if (existsSync(STATE)) {
    const old = JSON.parse(await readFile(STATE, 'utf8')) as State;
    if (alive(old.supervisor))
      throw new Error(
        `a cluster is already running (supervisor pid ${old.supervisor}); npm run cluster -- --down`,
      );
    await down();
  }
  await rm(DIR, { recursive: true, force: true });
  await mkdir(join(DIR, 'logs'), { recursive: true });
  // PostgreSQL (as postgres) writes its log here too
  await chmod(join(DIR, 'logs'), 0o1777);
  for (let d = DIR; d !== dirname(d); d = dirname(d)) {
    // the postgres and nobody users must reach their directories
    if (asRoot) await chmod(d, 0o755).catch(() => {});
    if (d === ROOT) break;
  }
  const children = new Children();
  const pgDataDirs: string[] = [];
  const state: State = {
    supervisor: process.pid,
    pgDataDirs,
    children: {},
    urls: {},
    rateLimits: RATE_LIMITS,
    dbLink: DB_LINK,
  };
  const link = new DelayLink();
  const saveState = async () => {
    for (const [name, child] of children.all) if (child.pid) state.children[name] = child.pid;
    await writeFile(STATE, JSON.stringify(state, null, 2));
  };
  let shuttingDown = false;
  const shutdown = async (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`\n${why}: stopping the cluster…`);
    await stopAll(children, pgDataDirs);
    await rm(STATE, { force: true });
    say('cluster stopped; nothing left running.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await saveState();
    const certs = await makeCertificates();
    say(`certificates   CA ${certs.ca}`);
    const password = randomBytes(18).toString('base64url');
    const replicationPassword = randomBytes(18).toString('base64url');
    const sockets = join(DIR, 'sockets');
    await mkdir(sockets);
    await own(sockets, POSTGRES_USER, 0o755);

    // PostgreSQL primary
    const [primaryPort, replicaPort, bouncerPort, redisPort, s3Port, httpPort] = await Promise.all(
      [0, 0, 0, 0, 0, 0].map(() => freePort()),
    );
    const primary = join(DIR, 'pg-primary');
    const replica = join(DIR, 'pg-replica');
    for (const d of [primary, replica]) {
      await mkdir(d);
      await own(d, POSTGRES_USER, 0o700);
    }
    run(
      join(PG_BIN, 'initdb'),
      ['-D', primary, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync'],
      {
        as: POSTGRES_USER,
      },
    );
    await writeFile(
      join(primary, 'postgresql.auto.conf'),
      [
        `port = ${primaryPort}`,
        `listen_addresses = '${HOST}'`,
        `unix_socket_directories = '${sockets}'`,
        'ssl = on',
        `ssl_cert_file = '${certs.postgres.cert}'`,
        `ssl_key_file = '${certs.postgres.key}'`,
        'wal_level = replica',
        'max_wal_senders = 5',
        'hot_standby = on',
        'max_connections = 200',
        "shared_preload_libraries = 'pg_stat_statements'",
        'password_encryption = scram-sha-256',
        '',
      ].join('\n'),
    );
    // TLS only, passwords only, from loopback
    await writeFile(
      join(primary, 'pg_hba.conf'),
      [
        'local all postgres trust',
        `hostssl all all ${HOST}/32 scram-sha-256`,
        `hostssl replication replicator ${HOST}/32 scram-sha-256`,
        `host all all 0.0.0.0/0 reject`,
      ].join('\n'),
    );
    run(join(PG_BIN, 'pg_ctl'), ['start', '-w', '-D', primary, '-l', join(DIR, 'logs/pg-primary.log')], {
      as: POSTGRES_USER,
    });
    pgDataDirs.push(primary);
    await saveState();
    const admin = new pg.Client({ host: sockets, port: primaryPort, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE ROLE kith LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE ROLE replicator REPLICATION LOGIN PASSWORD '${replicationPassword}'`);
    await admin.query('CREATE DATABASE kith OWNER kith');
    // PgBouncer drops statement_timeout from the startup packet: the role carries it
    await admin.query(`ALTER ROLE kith SET statement_timeout = '15s'`);
    await admin.end();
    say(`postgres       primary  ${HOST}:${primaryPort} (TLS)`);

    // streaming replica
    run(
      join(PG_BIN, 'pg_basebackup'),
      [
        '-h',
        HOST,
        '-p',
        String(primaryPort),
        '-U',
        'replicator',
        '-D',
        replica,
        '-R',
        '-X',
        'stream',
        // an immediate checkpoint: the default (spread) one waits for most of checkpoint_timeout
        '--checkpoint=fast',
        '--no-sync',
      ],
      {
        as: POSTGRES_USER,
        env: { PGPASSWORD: replicationPassword, PGSSLMODE: 'verify-full', PGSSLROOTCERT: certs.ca },
      },
    );
    await writeFile(
      join(replica, 'postgresql.auto.conf'),
      `${await readFile(join(replica, 'postgresql.auto.conf'), 'utf8')}\nport = ${replicaPort}\n`,
    );
    await own(join(replica, 'postgresql.auto.conf'), POSTGRES_USER);
    run(join(PG_BIN, 'pg_ctl'), ['start', '-w', '-D', replica, '-l', join(DIR, 'logs/pg-replica.log')], {
      as: POSTGRES_USER,
    });
    pgDataDirs.push(replica);
    await saveState();
    say(`postgres       replica  ${HOST}:${replicaPort} (streaming from the primary)`);

    // --db-link: PgBouncer → relay → primary (TLS passes through the relay untouched)
    const primaryForBouncer = DB_LINK ? await link.listen(primaryPort!) : primaryPort;
    if (DB_LINK)
      say(`db link        ${HOST}:${primaryForBouncer} → primary (delay 0 ms; the control channel sets it)`);

    // PgBouncer: the shipped pooling settings, TLS on both sides
    const bouncerDir = join(DIR, 'pgbouncer');
    await mkdir(bouncerDir);
    await writeFile(join(bouncerDir, 'userlist.txt'), `"kith" "${password}"\n`);
    await writeFile(
      join(bouncerDir, 'pgbouncer.ini'),
      [
        '[databases]',
        `kith = host=${HOST} port=${primaryForBouncer} dbname=kith`,
        `kith_replica = host=${HOST} port=${replicaPort} dbname=kith`,
        '[pgbouncer]',
        `listen_addr = ${HOST}`,
        `listen_port = ${bouncerPort}`,
        `unix_socket_dir = ${sockets}`,
        'auth_type = scram-sha-256',
        `auth_file = ${join(bouncerDir, 'userlist.txt')}`,
        'client_tls_sslmode = require',
        `client_tls_cert_file = ${certs.postgres.cert}`,
        `client_tls_key_file = ${certs.postgres.key}`,
        'server_tls_sslmode = verify-full',
        `server_tls_ca_file = ${certs.ca}`,
        `%include ${join(ROOT, 'deploy/pgbouncer/kith-pooling.ini')}`,
        '',
      ].join('\n'),
    );
    await own(bouncerDir, POSTGRES_USER, 0o700);
    await own(join(bouncerDir, 'userlist.txt'), POSTGRES_USER, 0o600);
    await own(join(bouncerDir, 'pgbouncer.ini'), POSTGRES_USER, 0o600);
    await children.start('pgbouncer', PGBOUNCER, [join(bouncerDir, 'pgbouncer.ini')], {
      as: POSTGRES_USER,
      ready: /process up|listening on/,
    });
    await saveState();
    say(`pgbouncer      ${HOST}:${bouncerPort} (transaction pooling, TLS)`);

    // Redis over TLS only
    const redisDir = join(DIR, 'redis');
    await mkdir(redisDir);
    await children.start(
      'redis',
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(redisPort),
        '--bind',
        HOST,
        '--tls-cert-file',
        certs.redis.cert,
        '--tls-key-file',
        certs.redis.key,
        '--tls-auth-clients',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        redisDir,
      ],
      { ready: /Ready to accept connections/ },
    );
    await saveState();
    say(`redis          rediss://${HOST}:${redisPort}`);

    // S3 for media
    const s3Dir = join(DIR, 's3');
    await mkdir(s3Dir);
    await children.start(
      's3rver',
      join(ROOT, 'node_modules/.bin/s3rver'),
      [
        '-d',
        s3Dir,
        '-a',
        HOST,
        '-p',
        String(s3Port),
        '--configure-bucket',
        'kith-media',
        '--no-vhost-buckets',
      ],
      { ready: /listening on|S3rver listening/i },
    );
    await saveState();
    say(`s3 (s3rver)    http://${HOST}:${s3Port}/kith-media`);

    // Kith: migrations over a direct connection, then the instances
    const tls = `sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.ca)}`;
    const direct = `postgres://kith:${password}@${HOST}:${primaryPort}/kith?${tls}`;
    const pooled = `postgres://kith:${password}@${HOST}:${bouncerPort}/kith?${tls}`;
    const pooledReplica = `postgres://kith:${password}@${HOST}:${bouncerPort}/kith_replica?${tls}`;
    const signingKey = generateKeyPairSync('ed25519')
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const common: NodeJS.ProcessEnv = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST,
      DATABASE_URL: pooled,
      DATABASE_DIRECT_URL: direct,
      DATABASE_READ_URLS: pooledReplica,
      // lag-aware routing (platform/db/replica-router.ts): over the bound, or down, reads go to the primary
      DATABASE_REPLICA_MAX_LAG_MS: process.env.CLUSTER_REPLICA_MAX_LAG_MS ?? '2000',
      DATABASE_REPLICA_PROBE_INTERVAL_MS: '1000',
      MIGRATE_ON_START: 'false',
      REDIS_URL: `rediss://${HOST}:${redisPort}`,
      // the cluster's CA, for every TLS connection Kith makes (Redis, and anything else)
      NODE_EXTRA_CA_CERTS: certs.ca,
      S3_ENDPOINT: `http://${HOST}:${s3Port}`,
      S3_BUCKET: 'kith-media',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      JWT_SIGNING_KEY: signingKey,
      METRICS_TOKEN: randomBytes(24).toString('base64url'),
      MEDIA_SIGNING_SECRET: randomBytes(32).toString('base64url'),
      TRUST_PROXY: HOST,
      CORS_ORIGINS: `https://localhost:${HTTPS_PORT}`,
      ...Object.fromEntries(
        Object.entries(process.env)
          .filter(([key]) => key.startsWith('CLUSTER_KITH_'))
          .map(([key, value]) => [key.slice('CLUSTER_KITH_'.length), value]),
      ),
    };
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'apps/server/src/cli/migrate.ts')], {
      env: { ...common, DATABASE_URL: direct },
    });
    say('migrations     applied (direct connection)');
    const instances: { name: string; port: number }[] = [];
    for (const [name, roles] of [
      ['kith-1', 'api,realtime'],
      ['kith-2', 'api,realtime'],
      ['kith-worker', 'worker'],
    ] as const) {
      const port = await freePort();
      const dataDir = join(DIR, name);
      await mkdir(dataDir);
      await children.start(
        name,
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'apps/server/src/main.ts')],
        {
          env: { ...common, KITH_ROLES: roles, PORT: String(port), DATA_DIR: dataDir },
          ready: /"msg":"Kith is ready/,
          timeoutMs: 120_000,
        },
      );
      instances.push({ name, port });
      await saveState();
      say(`${name.padEnd(14)} http://${HOST}:${port} (${roles})`);
    }

    say(`replica route  ${await replicaStatus(instances[0]!.port, common.METRICS_TOKEN!)}`);

    // nginx from deploy/nginx, rendered as the Compose and bare-machine deployments render it
    const nginxDir = join(DIR, 'nginx');
    for (const sub of ['', 'logs', 'tmp']) await mkdir(join(nginxDir, sub), { recursive: true });
    const upstreams = instances
      .filter((i) => i.name !== 'kith-worker')
      .map((i) => `server ${HOST}:${i.port} max_fails=3 fail_timeout=10s;`)
      .join('\n');
    await writeFile(join(nginxDir, 'upstreams.conf'), `${upstreams}\n`);
    const webRoot = join(ROOT, 'apps/web/dist');
    const vars: Record<string, string> = {
      KITH_SERVER_NAME: `${HOST} localhost`,
      KITH_HTTPS_PORT: String(HTTPS_PORT),
      KITH_HTTP_PORT: String(httpPort),
      KITH_TLS_CERT: certs.nginx.cert,
      KITH_TLS_KEY: certs.nginx.key,
      KITH_WEB_ROOT: webRoot,
      KITH_NGINX_SNIPPETS: join(ROOT, 'deploy/nginx/snippets'),
      KITH_API_UPSTREAMS: join(nginxDir, 'upstreams.conf'),
      KITH_REALTIME_UPSTREAMS: join(nginxDir, 'upstreams.conf'),
      KITH_ACCESS_LOG: join(nginxDir, 'logs/access.log'),
      KITH_TRUSTED_LB: `${HOST}/32`,
      KITH_AUTH_RATE: process.env.CLUSTER_AUTH_RATE ?? '50r/s',
      KITH_AUTH_BURST: process.env.CLUSTER_AUTH_BURST ?? '100',
      KITH_MEDIA_MAX_BODY: '16m',
      KITH_ASSET_ORIGIN: '',
      KITH_MEDIA_ORIGIN: `http://${HOST}:${s3Port}`,
      KITH_BROTLI_STATIC: '',
    };
    const template = await readFile(join(ROOT, 'deploy/nginx/kith.conf.template'), 'utf8');
    const site = template.replace(/\$\{(KITH_[A-Z0-9_]+)\}/g, (_, name: string) => {
      const value = vars[name];
      if (value === undefined)
        throw new Error(`deploy/nginx/kith.conf.template uses \${${name}}, which the cluster does not set`);
      return value;
    });
    await writeFile(join(nginxDir, 'kith.conf'), site);
    const temp = (name: string) => `${name}_temp_path ${join(nginxDir, 'tmp', name)};`;
    await writeFile(
      join(nginxDir, 'nginx.conf'),
      [
        'worker_processes 2;',
        `pid ${join(nginxDir, 'nginx.pid')};`,
        `error_log ${join(nginxDir, 'logs/error.log')} notice;`,
        'events { worker_connections 4096; }',
        'http {',
        '  include /etc/nginx/mime.types;',
        '  default_type application/octet-stream;',
        '  sendfile on;',
        `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}`,
        `  include ${join(nginxDir, 'kith.conf')};`,
        '}',
        '',
      ].join('\n'),
    );
    if (NOBODY) run('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, nginxDir]);
    const nginxArgs = [
      '-p',
      `${nginxDir}/`,
      '-e',
      join(nginxDir, 'logs/error.log'),
      '-c',
      join(nginxDir, 'nginx.conf'),
    ];
    run(NGINX, [...nginxArgs, '-t'], { as: NOBODY });
    await children.start('nginx', NGINX, [...nginxArgs, '-g', 'daemon off;'], { as: NOBODY });
    // by name: nginx refuses TLS handshakes without a known SNI name, and an IP address is never sent as SNI
    const base = `https://localhost:${HTTPS_PORT}`;
    await waitReady(`${base}/readyz`, certs.ca);
    state.urls = {
      app: `${base}/`,
      api: `${base}/api/v1`,
      metrics: instances.map((i) => `http://${HOST}:${i.port}/metrics`).join(' '),
      primary: direct.replace(password, '***'),
      replica: `postgres://${HOST}:${replicaPort}/kith (streaming; unix socket ${sockets})`,
      pgbouncer: pooled.replace(password, '***'),
      redis: common.REDIS_URL!,
      s3: `http://${HOST}:${s3Port}/kith-media`,
      ca: certs.ca,
    };
    state.urls.control = await controlServer(children, pgDataDirs, saveState, link);
    state.metricsToken = common.METRICS_TOKEN!;
    await saveState();
    say(`nginx          ${base}  (HTTP/2, TLS; CA: ${certs.ca})`);
    say(
      `control        ${state.urls.control} (drills: signal, stop, start a component; pg stop/start${DB_LINK ? '; db link delay' : ''})`,
    );
    say(
      `rate limits    ${RATE_LIMITS}${RATE_LIMITS === 'production' ? ' (npm run slo/capacity/soak/drills need `npm run cluster -- --load`)' : ''}`,
    );
    say('');
    say(`Kith cluster is up at ${base}/  — Ctrl-C or \`npm run cluster -- --down\` stops everything.`);
    say(`metrics token: ${common.METRICS_TOKEN}   state: ${STATE}   logs: ${join(DIR, 'logs')}`);
  } catch (err) {
    say(`cluster failed to start: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown('start-up failed');
  }
}

/**
 * The drills' control channel (`npm run drills`, `npm run soak`): an HTTP endpoint on 127.0.0.1
 * (random port, in cluster.json as urls.control) that injects faults into what this script
 * supervises and brings it back the way it was started, so the supervisor still stops all of it.
 * POST a JSON body:
 *   { "action": "signal", "name": "kith-1", "signal": "SIGKILL" }   (also SIGSTOP / SIGCONT)
 *   { "action": "stop", "name": "kith-1" }        SIGTERM, answered once it exited (graceful)
 *   { "action": "start", "name": "kith-1" }       as first started, answered once it is ready
 *   { "action": "pg", "which": "primary" | "replica", "op": "stop" | "start" | "restart" }
 *   { "action": "pids" }                          every component's pid (postmasters included)
 *   { "action": "link", "delayMs": "200" }         (--db-link) primary→PgBouncer delay; "0" heals it
 */
async function controlServer(
  children: Children,
  pgDataDirs: string[],
  saveState: () => Promise<void>,
  link: DelayLink,
): Promise<string> {
  const { createServer: createHttpServer } = await import('node:http');
  const handle = async (body: Record<string, string>): Promise<unknown> => {
    const child = body.name ? children.all.get(body.name) : undefined;
    switch (body.action) {
      case 'signal': {
        if (!child?.pid) throw new Error(`no component ${body.name}`);
        process.kill(-child.pid, body.signal as NodeJS.Signals);
        return { pid: child.pid };
      }
      case 'stop':
        await children.stop(body.name!, (body.signal as NodeJS.Signals) ?? 'SIGTERM', 30_000);
        return {};
      case 'start': {
        const spec = children.specs.get(body.name!);
        if (!spec) throw new Error(`no component ${body.name}`);
        if (child && child.exitCode === null && child.signalCode === null)
          throw new Error(`${body.name} is still running`);
        const started = await children.start(body.name!, spec.cmd, spec.args, spec.opts);
        await saveState();
        return { pid: started.pid };
      }
      case 'pg': {
        const dir = pgDataDirs[body.which === 'replica' ? 1 : 0];
        if (!dir || !['stop', 'start', 'restart'].includes(body.op!)) throw new Error('which/op');
        const args =
          body.op === 'stop'
            ? ['stop', '-w', '-D', dir, '-m', 'fast']
            : [body.op!, '-w', '-D', dir, '-m', 'fast', '-l', join(DIR, `logs/pg-${body.which}.log`)];
        run(
          join(PG_BIN, 'pg_ctl'),
          body.op === 'start' ? args.filter((a) => a !== '-m' && a !== 'fast') : args,
          {
            as: POSTGRES_USER,
          },
        );
        return {};
      }
      case 'pids': {
        const pids: Record<string, number> = {};
        for (const [name, c] of children.all) if (c.pid && c.exitCode === null) pids[name] = c.pid;
        for (const [i, dir] of pgDataDirs.entries()) {
          const pidFile = join(dir, 'postmaster.pid');
          if (existsSync(pidFile))
            pids[i === 0 ? 'pg-primary' : 'pg-replica'] = Number(
              (await readFile(pidFile, 'utf8')).split('\n')[0],
            );
        }
        return pids;
      }
      case 'link': {
        if (!DB_LINK)
          throw new Error('this cluster has no db link: start it with npm run cluster -- --db-link');
        const delayMs = Number(body.delayMs);
        if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 10_000) throw new Error('delayMs: 0–10000');
        link.delayMs = delayMs;
        return { delayMs, connections: link.connections };
      }
      default:
        throw new Error(`unknown action ${body.action}`);
    }
  };
  const server = createHttpServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      void (async () => {
        try {
          const out = await handle(JSON.parse(raw || '{}') as Record<string, string>);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
        } catch (err) {
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: (err as Error).message }));
        }
      })();
    });
  });
  const port = await freePort();
  await new Promise<void>((ok) => server.listen(port, HOST, ok));
  server.unref();
  return `http://${HOST}:${port}/`;
}

/** Polls `url` (trusting the cluster's CA) until it answers 200, for up to a minute. */
async function waitReady(url: string, ca: string): Promise<void> {
  const { request } = await import('node:https');
  const caPem = await readFile(ca);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await new Promise<number>((ok) => {
      const req = request(url, { ca: caPem }, (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      });
      req.on('error', () => ok(0));
      req.end();
    });
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within a minute (last: ${status})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function stopAll(children: Children, pgDataDirs: string[]): Promise<void> {
  children.stopping = true;
  // the edge first, then the app, then what it depends on
  await children.stop('nginx', 'SIGQUIT');
  await Promise.all(['kith-1', 'kith-2', 'kith-worker'].map((n) => children.stop(n, 'SIGTERM', 30_000)));
  await Promise.all(
    ['s3rver', 'redis', 'pgbouncer'].map((n) => children.stop(n, n === 'pgbouncer' ? 'SIGINT' : 'SIGTERM')),
  );
  for (const dir of [...pgDataDirs].reverse()) {
    try {
      run(join(PG_BIN, 'pg_ctl'), ['stop', '-w', '-D', dir, '-m', 'fast'], { as: POSTGRES_USER });
    } catch {
      // not running
    }
  }
  unmountDrills();
}

/** A tmpfs the media-full drill mounted under the bucket, if a drill was cut short: never left behind. */
function unmountDrills(): void {
  const bucket = join(DIR, 's3/kith-media');
  try {
    const mounts = execFileSync('cat', ['/proc/mounts'], { encoding: 'utf8' });
    if (mounts.split('\n').some((line) => line.split(' ')[1] === bucket)) run('umount', ['-l', bucket]);
  } catch {
    // nothing mounted, or not allowed to look
  }
}

/** `--down` from another terminal: asks the supervisor to stop everything; cleans up after a dead one. */
async function down(): Promise<void> {
  if (!existsSync(STATE)) {
    say('no cluster is running.');
    return;
  }
  const state = JSON.parse(await readFile(STATE, 'utf8')) as State;
  if (alive(state.supervisor) && state.supervisor !== process.pid) {
    process.kill(state.supervisor, 'SIGTERM');
    const deadline = Date.now() + 90_000;
    while (alive(state.supervisor) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (!alive(state.supervisor)) {
      say('cluster stopped.');
      return;
    }
  }
  // the supervisor is gone (kill -9): stop what it left
  for (const pid of Object.values(state.children)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const dir of state.pgDataDirs.reverse()) {
    try {
      run(join(PG_BIN, 'pg_ctl'), ['stop', '-w', '-D', dir, '-m', 'fast'], { as: POSTGRES_USER });
    } catch {
      // not running
    }
  }
  unmountDrills();
  await rm(STATE, { force: true });
  say('cluster leftovers stopped.');
}

const main = process.argv.includes('--down') ? down : up;
main().catch((err) => {
  process.stderr.write(`cluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

/** The replica as kith-1's router sees it (its /metrics): up or down, lag, the bound. */
async function replicaStatus(port: number, token: string): Promise<string> {
  try {
    const res = await fetch(`http://${HOST}:${port}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    const value = (name: string) => {
      const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'));
      return m ? Number(m[1]) : undefined;
    };
    const healthy = value('kith_db_replica_healthy');
    const lag = value('kith_db_replica_lag_seconds');
    const bound = value('kith_db_replica_max_lag_seconds');
    if (healthy === undefined) return 'no replica configured';
    return `${healthy === 1 ? 'up' : 'down'}, lag ${lag === undefined ? '?' : `${(lag * 1000).toFixed(0)} ms`}, reads use it while under ${bound === undefined ? '?' : `${bound * 1000} ms`} (kith_db_reads_total by pool)`;
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}
