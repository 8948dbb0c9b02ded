import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaOrigins, registerWebApp, serviceWorkerPolicy } from '../src/platform/http/web-app.ts';

const INDEX = '<!doctype html><html><head><link rel="manifest" href="/manifest.webmanifest"></head></html>';
const SW = `self.addEventListener('fetch', () => {});${' '.repeat(600)}`;
const MANIFEST = JSON.stringify({ name: 'Kith', start_url: '/', display: 'standalone' });

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values] as const;
    }),
  );
}

/** The web app's files served by a bare Fastify: what the PWA needs from the server, no database. */
describe('serving the PWA files', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kith-pwa-dist-'));
    await mkdir(join(dir, 'icons'), { recursive: true });
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'sw.js'), SW);
    await writeFile(join(dir, 'sw.js.br'), brotliCompressSync(SW));
    await writeFile(join(dir, 'manifest.webmanifest'), MANIFEST);
    await writeFile(join(dir, 'offline.html'), '<!doctype html><title>Offline</title>');
    await writeFile(join(dir, 'icons/icon-192.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    app = Fastify();
    const logger = { info: () => undefined, warn: () => undefined };
    await registerWebApp(app, { root: dir, config: { s3: undefined, assetOrigin: undefined }, logger });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves /sw.js at the root (scope /), revalidated on every check, with its own policy', async () => {
    for (const encoding of ['identity', 'br']) {
      const res = await app.inject({
        method: 'GET',
        url: '/sw.js',
        headers: { 'accept-encoding': encoding },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^(?:application|text)\/javascript/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['service-worker-allowed']).toBeUndefined();
      const csp = directives(String(res.headers['content-security-policy']));
      expect(csp.get('default-src')).toEqual(["'none'"]);
      expect(csp.get('script-src')).toEqual(["'self'"]);
      expect(csp.get('connect-src')).toEqual(["'self'"]);
    }
  });

  it('serves the manifest, icons and the offline page as files, never immutable', async () => {
    const manifest = await app.inject({ method: 'GET', url: '/manifest.webmanifest' });
    expect(manifest.statusCode).toBe(200);
    expect(manifest.headers['content-type']).toMatch(/^application\/manifest\+json/);
    expect(manifest.headers['cache-control']).toBe('no-cache');
    expect(manifest.json()).toMatchObject({ start_url: '/' });
    const icon = await app.inject({ method: 'GET', url: '/icons/icon-192.png' });
    expect(icon.headers['content-type']).toBe('image/png');
    const offline = await app.inject({ method: 'GET', url: '/offline.html' });
    expect(offline.statusCode).toBe(200);
    expect(offline.body).toContain('Offline');
    // only the worker gets the worker's policy
    expect(offline.headers['content-security-policy']).toBeUndefined();
  });

  it("lets the page register the worker and read the manifest, nothing wider: worker-src and manifest-src 'self'", async () => {
    // the worker precaches the shell at `/` with a revision query
    const res = await app.inject({
      method: 'GET',
      url: '/?__WB_REVISION__=3f9a2c',
      headers: { host: 'kith.test' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
    const csp = directives(String(res.headers['content-security-policy']));
    expect(csp.get('worker-src')).toEqual(["'self'"]);
    expect(csp.get('manifest-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(String(res.headers['content-security-policy'])).not.toMatch(/unsafe-|\*/);
  });

  it('lets the worker fetch media variants from the S3 origin when media lives there', () => {
    const media = mediaOrigins({
      bucket: 'kith-media',
      region: 'eu-west-1',
      endpoint: undefined,
      forcePathStyle: false,
    } as never);
    expect(directives(serviceWorkerPolicy(media)).get('connect-src')).toEqual([
      "'self'",
      'https://kith-media.s3.eu-west-1.amazonaws.com',
    ]);
  });
});
