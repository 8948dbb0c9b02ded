import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import {
  contentSecurityPolicy,
  DEFAULT_WEB_DIR,
  mediaOrigins,
  preferredEncoding,
} from '../src/platform/http/web-app.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createPlatform, type Platform } from '../src/platform/platform.ts';
import { buildServices } from '../src/services.ts';
import { testConfig } from './helpers/app.ts';
import { createTestDatabase } from './helpers/database.ts';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-3f9a2c.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('kith '.repeat(400))});`;

async function writeBuild(dir: string) {
  await mkdir(join(dir, 'assets'), { recursive: true });
  const files: Record<string, string> = {
    'index.html': INDEX,
    'assets/app-3f9a2c.js': SCRIPT,
    'favicon.svg': '<svg/>',
  };
  for (const [name, body] of Object.entries(files)) {
    await writeFile(join(dir, name), body);
    if (name !== 'favicon.svg') {
      await writeFile(join(dir, `${name}.br`), brotliCompressSync(body));
      await writeFile(join(dir, `${name}.gz`), gzipSync(body));
    }
  }
}

interface Built {
  app: FastifyInstance;
  platform: Platform;
  warnings: string[];
  close(): Promise<void>;
}

/** The real app on its own database, serving the web build at `webRoot`. */
async function build(webRoot: string): Promise<Built> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'kith-web-data-'));
  const config = testConfig(database.url, { DATA_DIR: dataDir });
  const logger = createLogger(config.logLevel);
  const warnings: string[] = [];
  const warn = logger.warn.bind(logger);
  logger.warn = ((obj: unknown, msg?: string) => {
    warnings.push(typeof obj === 'string' ? obj : (msg ?? ''));
    return warn(obj as object, msg);
  }) as typeof logger.warn;
  const platform = await createPlatform({ config, logger, databaseUrl: database.url });
  const services = await buildServices(platform);
  const app = await buildApp(platform, { docs: false, services, webRoot });
  await app.ready();
  return {
    app,
    platform,
    warnings,
    async close() {
      await app.close();
      await platform.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const expectJson404 = (res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) => {
  expect(res.statusCode).toBe(404);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json()).toEqual({
    error: { code: 'ROUTE_NOT_FOUND', message: expect.any(String), requestId: res.headers['x-request-id'] },
  });
};

describe('serving the web app', () => {
  let webDir: string;
  let built: Built;

  beforeAll(async () => {
    webDir = await mkdtemp(join(tmpdir(), 'kith-web-dist-'));
    await writeBuild(webDir);
    built = await build(webDir);
  });
  afterAll(async () => {
    await built?.close();
    await rm(webDir, { recursive: true, force: true });
  });

  it('serves index.html at / never cached, with the strict CSP', async () => {
    const res = await built.app.inject({ method: 'GET', url: '/', headers: { host: 'kith.test:8080' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(res.body).toBe(INDEX);
    const csp = String(res.headers['content-security-policy']);
    const directives = new Map(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values] as const;
      }),
    );
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(directives.get('connect-src')).toEqual(["'self'", 'ws://kith.test:8080']);
    expect(directives.get('img-src')).toEqual(["'self'", 'blob:', 'data:']);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('require-trusted-types-for')).toEqual(["'script'"]);
  });

  it('answers with the precompressed index.html the client accepts', async () => {
    const br = await built.app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(INDEX);
    const gz = await built.app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-encoding': 'gzip, br;q=0' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(INDEX);
  });

  it('serves hashed assets immutable, precompressed when accepted', async () => {
    const plain = await built.app.inject({ method: 'GET', url: '/assets/app-3f9a2c.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-type']).toMatch(/javascript/);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(SCRIPT);

    const br = await built.app.inject({
      method: 'GET',
      url: '/assets/app-3f9a2c.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(SCRIPT);

    const gz = await built.app.inject({
      method: 'GET',
      url: '/assets/app-3f9a2c.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(SCRIPT);
  });

  it('serves files outside assets/ revalidated, not immutable', async () => {
    const res = await built.app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('answers client routes with index.html (GET and HEAD)', async () => {
    for (const url of ['/login', '/posts/0191f6a0-0000-7000-8000-000000000000', '/users/ana?tab=friends']) {
      const res = await built.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    }
    const head = await built.app.inject({ method: 'HEAD', url: '/settings/sessions' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it("keeps the JSON 404 for the server's own paths, missing files and other methods", async () => {
    for (const url of [
      '/api/v1/nope',
      '/api/nope',
      '/api',
      '/openapi.json/x',
      '/asyncapi.json/x',
      '/docs/anything',
      '/metrics/x',
      '/livez/x',
      '/readyz/x',
      '/media/0191f6a0/large.webp',
      '/assets/missing-123.js',
      '/robots.txt',
    ]) {
      expectJson404(await built.app.inject({ method: 'GET', url }));
    }
    expectJson404(await built.app.inject({ method: 'POST', url: '/posts/123', payload: {} }));
    expectJson404(await built.app.inject({ method: 'DELETE', url: '/settings' }));
  });

  it('leaves the API and health routes as they were', async () => {
    const live = await built.app.inject({ method: 'GET', url: '/livez' });
    expect(live.statusCode).toBe(200);
    expect(live.headers['content-type']).toMatch(/^application\/json/);
    const me = await built.app.inject({ method: 'GET', url: '/api/v1/me' });
    expect(me.statusCode).toBe(401);
    expect(me.json().error.code).toBeTypeOf('string');
  });
});

describe('without a build', () => {
  it('starts with the API alone, says why, and keeps the JSON 404 at /', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'kith-web-empty-'));
    const built = await build(empty);
    try {
      expect(built.warnings.some((w) => w.includes('web app not served'))).toBe(true);
      expectJson404(await built.app.inject({ method: 'GET', url: '/' }));
      expectJson404(await built.app.inject({ method: 'GET', url: '/login' }));
      expect((await built.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    } finally {
      await built.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('the policy and negotiation rules', () => {
  const request = (host: string, protocol: 'http' | 'https' = 'http') =>
    ({ host, protocol }) as Parameters<typeof contentSecurityPolicy>[0];

  it('allows the media origin when media lives in S3', () => {
    const s3 = {
      endpoint: 'https://minio.example:9000',
      bucket: 'kith-media',
      region: 'eu-west-1',
      accessKeyId: undefined,
      secretAccessKey: undefined,
      forcePathStyle: true,
    };
    expect(mediaOrigins(s3)).toEqual(['https://minio.example:9000']);
    expect(mediaOrigins({ ...s3, endpoint: undefined, forcePathStyle: false })).toEqual([
      'https://kith-media.s3.eu-west-1.amazonaws.com',
    ]);
    expect(mediaOrigins(undefined)).toEqual([]);
    const csp = contentSecurityPolicy(request('kith.example', 'https'), mediaOrigins(s3));
    expect(csp).toContain("img-src 'self' blob: data: https://minio.example:9000");
    expect(csp).toContain("connect-src 'self' wss://kith.example https://minio.example:9000");
  });

  it('never writes a hostile Host header into the policy', () => {
    const csp = contentSecurityPolicy(request("evil.example; script-src 'unsafe-inline'"), []);
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('picks br, then gzip, honouring q=0', () => {
    expect(preferredEncoding(undefined)).toBe('identity');
    expect(preferredEncoding('gzip, deflate, br')).toBe('br');
    expect(preferredEncoding('br;q=0, gzip')).toBe('gzip');
    expect(preferredEncoding('*')).toBe('br');
    expect(preferredEncoding('*;q=0, identity')).toBe('identity');
    expect(preferredEncoding('deflate')).toBe('identity');
  });

  it('looks for the build in apps/web/dist of this checkout', () => {
    expect(DEFAULT_WEB_DIR.endsWith(join('apps', 'web', 'dist'))).toBe(true);
    expect(existsSync(join(DEFAULT_WEB_DIR, '..', 'package.json'))).toBe(true);
  });
});
