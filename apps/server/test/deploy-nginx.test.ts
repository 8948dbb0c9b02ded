import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import type { ServerMessage } from '@kith/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase } from './helpers/database.ts';
import { REPO_DIR, type ServerProcess, spawnServer, stopChild, stopServer } from './helpers/process.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import { eventually } from './helpers/ws-client.ts';

// Debian's nginx, started unprivileged from a temp prefix, renders deploy/nginx/kith.conf.template
// (the file every deployment uses) in front of two real Kith processes sharing one database and one
// redis-server.
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
if (!NGINX) console.warn('deploy-nginx: skipped, no nginx binary (apt-get install nginx)');

const NGINX_DIR = join(REPO_DIR, 'deploy/nginx');
const HOST = 'localhost';
/** The "load balancer" in front of nginx: the only peer whose X-Forwarded-For is believed. */
const LB_ADDRESS = '127.0.0.2';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** envsubst restricted to ${KITH_*}, failing on a placeholder with no value (a typo must not ship). */
function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{(KITH_[A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`no value for \${${name}}`);
    return value;
  });
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

describe.skipIf(!NGINX)('nginx in front of two Kith instances', () => {
  let dir: string;
  let ca: Buffer;
  let httpsPort: number;
  let httpPort: number;
  let nginx: ChildProcess;
  // registered here, not inside beforeAll (a hook registered from a hook never runs): the
  // processes, the database and the directory beforeAll made, undone in reverse order
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  let one: ServerProcess;
  let two: ServerProcess;
  const origin = () => `https://${HOST}:${httpsPort}`;
  const bundle = 'app-3f9a1c2b.js';
  let bundleGz: Buffer;

  const request = (
    path: string,
    options: {
      method?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      localAddress?: string;
    } = {},
  ) =>
    new Promise<Response>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: httpsPort,
          servername: HOST,
          ca,
          path,
          method: options.method ?? 'GET',
          headers: { host: `${HOST}:${httpsPort}`, ...options.headers },
          ...(options.localAddress ? { localAddress: options.localAddress } : {}),
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body,
              json: () => JSON.parse(body.toString()),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.setTimeout(15_000, () =>
        req.destroy(new Error(`${options.method ?? 'GET'} ${path}: no answer in 15 s`)),
      );
      req.end(options.body);
    });

  const postJson = (
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
    localAddress?: string,
  ) =>
    request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      ...(localAddress ? { localAddress } : {}),
    });

  async function signup() {
    const username = `u_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
    const password = `pw-${randomUUID()}`;
    const res = await postJson('/api/v1/auth/signup', {
      username,
      email: `${username}@example.com`,
      password,
    });
    expect(res.status).toBe(201);
    const body = res.json<{ user: { id: string }; accessToken: string }>();
    return { id: body.user.id, username, password, accessToken: body.accessToken };
  }

  const accessLog = async () =>
    (await readFile(join(dir, 'logs/access.log'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kith-nginx-'));
    const database = await createTestDatabase();
    const redis = await startRedisServer();
    cleanups.push(async () => {
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    });

    // a self-signed certificate for localhost, made here
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' }); // biome-ignore format: one argument list
    ca = await readFile(join(dir, 'cert.pem'));

    // a small built web app: hashed assets (one precompressed), the entry page, a service worker
    const web = join(dir, 'web');
    await mkdir(join(web, 'assets'), { recursive: true });
    const js = `export const routes = ${JSON.stringify(Array.from({ length: 200 }, (_, i) => `/screen/${i}`))};\n`;
    bundleGz = gzipSync(js, { level: 9 });
    await writeFile(join(web, 'assets', bundle), js);
    await writeFile(join(web, 'assets', `${bundle}.gz`), bundleGz);
    await writeFile(join(web, 'assets/app-7d1e0c4a.css'), 'body{margin:0}\n');
    await writeFile(
      join(web, 'index.html'),
      `<!doctype html><html lang="en"><head><script type="module" src="/assets/${bundle}"></script></head><body><div id="root"></div></body></html>\n`,
    );
    await writeFile(join(web, 'sw.js'), 'self.addEventListener("fetch", () => {});\n');

    const dataDir = join(dir, 'data');
    const signingKey = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      DATA_DIR: dataDir,
      JWT_SIGNING_KEY: signingKey,
      METRICS_TOKEN: 'metrics-token-for-tests-0123456789',
      TRUST_PROXY: '127.0.0.1',
      CHAT_FRIENDS_ONLY: 'false',
      RATE_LIMIT_SIGNUP_IP: '1000000',
      RATE_LIMIT_LOGIN_IP: '1000000',
      RATE_LIMIT_LOGIN_ACCOUNT: '10000',
      RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
    };
    [one, two] = await Promise.all([spawnServer({ env }), spawnServer({ env })]);

    [httpsPort, httpPort] = [await freePort(), await freePort()];
    const upstreams = [one, two]
      .map((s) => `server ${new URL(s.url).host} max_fails=3 fail_timeout=10s;`)
      .join('\n');
    await writeFile(join(dir, 'api-upstreams.conf'), `${upstreams}\n`);
    await writeFile(join(dir, 'realtime-upstreams.conf'), `${upstreams}\n`);
    await mkdir(join(dir, 'logs'));
    await mkdir(join(dir, 'tmp'));
    const site = renderTemplate(await readFile(join(NGINX_DIR, 'kith.conf.template'), 'utf8'), {
      KITH_SERVER_NAME: HOST,
      KITH_HTTPS_PORT: String(httpsPort),
      KITH_HTTP_PORT: String(httpPort),
      KITH_TLS_CERT: join(dir, 'cert.pem'),
      KITH_TLS_KEY: join(dir, 'key.pem'),
      KITH_WEB_ROOT: web,
      KITH_NGINX_SNIPPETS: join(NGINX_DIR, 'snippets'),
      KITH_API_UPSTREAMS: join(dir, 'api-upstreams.conf'),
      KITH_REALTIME_UPSTREAMS: join(dir, 'realtime-upstreams.conf'),
      KITH_ACCESS_LOG: join(dir, 'logs/access.log'),
      KITH_TRUSTED_LB: `${LB_ADDRESS}/32`,
      KITH_AUTH_RATE: '20r/s',
      KITH_AUTH_BURST: '20',
      KITH_MEDIA_MAX_BODY: '16m',
      KITH_ASSET_ORIGIN: '',
      KITH_MEDIA_ORIGIN: '',
      KITH_BROTLI_STATIC: '',
    });
    await writeFile(join(dir, 'kith.conf'), site);
    const temp = (name: string) => `${name}_temp_path ${join(dir, 'tmp', name)};`;
    await writeFile(
      join(dir, 'nginx.conf'),
      [
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'logs/error.log')} notice;`,
        'events { worker_connections 1024; }',
        'http {',
        '  include /etc/nginx/mime.types;',
        '  default_type application/octet-stream;',
        '  sendfile on;',
        '  access_log off;',
        `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}`,
        `  include ${join(dir, 'kith.conf')};`,
        '}',
        '',
      ].join('\n'),
    );
    // unprivileged: as root (CI containers), nginx runs entirely as nobody
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('chown', ['-R', '65534:65534', dir]);
    const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
    const args = ['-p', `${dir}/`, '-e', join(dir, 'logs/error.log'), '-c', join(dir, 'nginx.conf')];
    const check = spawnSync(NGINX!, [...args, '-t'], { encoding: 'utf8', ...ids });
    expect(check.status, check.stderr).toBe(0);

    nginx = spawn(NGINX!, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    let nginxErr = '';
    nginx.stderr!.on('data', (c) => {
      nginxErr += c;
    });
    cleanups.push(() => stopChild(nginx, 'SIGQUIT')); // graceful first
    await eventually(async () => {
      if (nginx.exitCode !== null) throw new Error(`nginx exited: ${nginxErr}`);
      return (await request('/livez').catch(() => undefined))?.status === 200;
    }, 15_000);
  });

  it('speaks HTTP/2 over TLS with HSTS and proxies the API', async () => {
    const session = http2.connect(origin(), {
      createConnection: () =>
        tls.connect({ host: '127.0.0.1', port: httpsPort, servername: HOST, ca, ALPNProtocols: ['h2'] }),
    });
    try {
      const stream = session.request({ ':path': '/readyz', 'x-request-id': 'edge-h2-check' });
      const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
      let body = '';
      stream.setEncoding('utf8').on('data', (c: string) => {
        body += c;
      });
      await once(stream, 'end');
      expect(session.alpnProtocol).toBe('h2');
      expect(headers[':status']).toBe(200);
      expect(headers['strict-transport-security']).toMatch(/max-age=\d{8}; includeSubDomains/);
      expect(headers['x-request-id']).toBe('edge-h2-check');
      expect(JSON.parse(body)).toMatchObject({ status: 'ok' });
    } finally {
      session.close();
    }
  });

  it('accepts TLS 1.3 and forward-secret TLS 1.2 only, and refuses unknown server names', async () => {
    const handshake = (options: tls.ConnectionOptions) =>
      new Promise<{ protocol: string | null; cipher: string }>((resolve, reject) => {
        const socket = tls.connect(
          { host: '127.0.0.1', port: httpsPort, servername: HOST, ca, ...options },
          () => {
            resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    expect((await handshake({})).protocol).toBe('TLSv1.3');
    const v12 = await handshake({ maxVersion: 'TLSv1.2' });
    expect(v12.protocol).toBe('TLSv1.2');
    expect(v12.cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES\d+-GCM|CHACHA20-POLY1305)/);
    // RSA key exchange and CBC suites (no forward secrecy) are not offered
    await expect(
      handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-SHA' }),
    ).rejects.toThrow();
    await expect(handshake({ servername: 'other.example' })).rejects.toThrow(/alert|handshake/i);
  });

  it('redirects plain HTTP to HTTPS', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port: httpPort, path: '/feed?x=1', headers: { host: HOST } }, resolve)
        .on('error', reject),
    );
    res.resume();
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe(`https://${HOST}/feed?x=1`);
  });

  it('serves hashed assets precompressed and immutable, the app shell revalidated', async () => {
    const asset = await request(`/assets/${bundle}`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-encoding']).toBe('gzip');
    // the .gz file as it is on disk (gzip_static), not compressed on the fly
    expect(asset.body.equals(bundleGz)).toBe(true);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.vary).toMatch(/Accept-Encoding/i);
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect(asset.headers['strict-transport-security']).toMatch(/max-age=/);

    for (const path of ['/', '/chat/some-conversation', '/settings/profile']) {
      const page = await request(path);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body.toString()).toContain(`/assets/${bundle}`);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(page.headers['x-frame-options']).toBe('DENY');
    }
    const sw = await request('/sw.js');
    expect(sw.status).toBe(200);
    expect(sw.headers['cache-control']).toBe('no-cache');

    const missing = await request('/assets/app-00000000.js');
    expect(missing.status).toBe(404);
    expect((await request('/metrics')).status).toBe(404);
  });

  it("keeps the app's error shape and request id through the proxy", async () => {
    const res = await postJson(
      '/api/v1/auth/signup',
      { username: 'x' },
      { 'x-request-id': 'edge-bad-input-1' },
    );
    expect(res.status).toBe(400);
    expect(res.headers['x-request-id']).toBe('edge-bad-input-1');
    expect(res.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.any(String), requestId: 'edge-bad-input-1' },
    });
    // nginx's own request id when the client sends none
    const plain = await request('/api/v1/no-such-route');
    expect(plain.status).toBe(404);
    expect(plain.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(plain.json()).toMatchObject({
      error: { code: 'ROUTE_NOT_FOUND', requestId: plain.headers['x-request-id'] },
    });
  });

  it('refuses a body over the edge limit with 413 in the error shape; uploads may be larger', async () => {
    const user = await signup();
    const big = JSON.stringify({ body: 'x'.repeat(2 * 1024 * 1024) });
    const res = await request('/api/v1/posts', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String), requestId: expect.any(String) },
    });
    // 2 MiB to the upload route passes nginx and is judged by the app (not an image: 4xx, not 413)
    const boundary = 'kithboundary';
    const upload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      ),
      Buffer.alloc(2 * 1024 * 1024, 7),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const media = await request('/api/v1/media', {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        authorization: `Bearer ${user.accessToken}`,
      },
      body: upload,
    });
    expect(media.status).toBeGreaterThanOrEqual(400);
    expect(media.status).toBeLessThan(500);
    expect(media.status).not.toBe(413);
    expect(media.json()).toMatchObject({
      error: { code: expect.any(String), requestId: expect.any(String) },
    });
  });

  it('believes X-Forwarded-For only from the load balancer', async () => {
    await request('/livez', {
      headers: { 'x-forwarded-for': '198.51.100.7', 'x-request-id': 'xff-spoofed' },
    });
    await request('/livez', {
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'xff-from-lb' },
      localAddress: LB_ADDRESS,
    });
    await eventually(async () => (await accessLog()).some((l) => l.request_id === 'xff-from-lb'));
    const log = await accessLog();
    expect(log.find((l) => l.request_id === 'xff-spoofed')?.remote_addr).toBe('127.0.0.1');
    expect(log.find((l) => l.request_id === 'xff-from-lb')?.remote_addr).toBe('203.0.113.9');
  });

  it('rate-limits /api/v1/auth/* at the edge with 429, Retry-After and the error shape', async () => {
    // from an address of its own: the limit is per client, and the other tests' sign-ups keep theirs
    const attempts = await Promise.all(
      Array.from({ length: 60 }, () =>
        postJson('/api/v1/auth/login', { login: 'nobody_here', password: 'wrong-password' }, {}, '127.0.0.3'),
      ),
    );
    const limited = attempts.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(attempts.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    expect(limited[0]!.headers['retry-after']).toBe('1');
    expect(limited[0]!.json()).toMatchObject({
      error: { code: 'RATE_LIMITED', message: expect.any(String), requestId: expect.any(String) },
    });
    // other routes are not limited by it
    expect((await request('/livez', { localAddress: '127.0.0.3' })).status).toBe(200);
  });

  it('carries a WebSocket chat between users on either instance', async () => {
    const [a, b] = [await signup(), await signup()];
    const conv = await postJson(
      '/api/v1/conversations',
      { usernames: [b.username] },
      {
        authorization: `Bearer ${a.accessToken}`,
      },
    );
    expect(conv.status).toBeLessThan(300);
    const conversationId = conv.json<{ id: string }>().id;

    const open = async (token: string) => {
      const ticket = await postJson(
        '/api/v1/realtime/ticket',
        { conversations: {} },
        { authorization: `Bearer ${token}` },
      );
      expect(ticket.status, ticket.body.toString()).toBe(200);
      // ws hands these on to tls.connect
      const socketOptions: WebSocket.ClientOptions & tls.ConnectionOptions = {
        ca,
        servername: HOST,
        headers: { host: `${HOST}:${httpsPort}` },
        origin: origin(),
      };
      const ws = new WebSocket(
        `wss://127.0.0.1:${httpsPort}/api/v1/realtime?ticket=${encodeURIComponent(ticket.json<{ ticket: string }>().ticket)}`,
        socketOptions,
      );
      const events: ServerMessage[] = [];
      ws.on('message', (data) => events.push(JSON.parse(data.toString())));
      await once(ws, 'open');
      await eventually(() => events.some((e) => e.type === 'hello'));
      return { ws, events };
    };
    const [sa, sb] = [await open(a.accessToken), await open(b.accessToken)];
    try {
      const clientMessageId = randomUUID();
      sa.ws.send(
        JSON.stringify({ type: 'message.send', conversationId, clientMessageId, body: 'through nginx' }),
      );
      await eventually(() => sa.events.some((e) => e.type === 'message.ack'));
      await eventually(() => sb.events.some((e) => e.type === 'message.new'));
      const received = sb.events.find((e) => e.type === 'message.new') as Extract<
        ServerMessage,
        { type: 'message.new' }
      >;
      expect(received.message).toMatchObject({ conversationId, body: 'through nginx', seq: 1 });
    } finally {
      for (const s of [sa, sb]) s.ws.terminate();
    }
  });

  it('loses no request while one instance stops (SIGTERM) under a stream of requests', async () => {
    const user = await signup();
    const auth = { authorization: `Bearer ${user.accessToken}` };
    const failures: string[] = [];
    let ok = 0;
    let stopped = false;
    let afterStop = 0;
    const worker = async () => {
      while (!stopped || afterStop < 200) {
        const res = await request('/api/v1/me', { headers: auth }).catch((err: Error) => ({
          status: 0,
          err,
        }));
        if (res.status === 200) ok++;
        else
          failures.push(
            `${res.status} ${'err' in res ? res.err.message : (res as Response).body.toString()}`,
          );
        if (stopped) afterStop++;
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    await eventually(() => ok >= 100, 20_000);
    const exit = await stopServer(two, 'SIGTERM');
    stopped = true;
    await Promise.all(workers);
    expect(exit.code).toBe(0);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(300);
    // after the stop, everything went to the instance left
    const port = new URL(one.url).port;
    const tail = (await accessLog()).filter((l) => l.uri === '/api/v1/me').slice(-50);
    expect(tail.every((l) => String(l.upstream).endsWith(`:${port}`))).toBe(true);
  });
});
