import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { Logger } from '../observability/logger.ts';

/** apps/web/dist of this checkout (the same depth from src/ and from the compiled dist/). */
export const DEFAULT_WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../web/dist');

/** Paths that belong to the server: an unknown one keeps the JSON 404, never the app's HTML. */
const SERVER_PATHS = /^\/(?:api|openapi\.json|asyncapi\.json|docs|metrics|livez|readyz|media)(?:[/?.]|$)/;
/** The last segment has an extension: a missing file, not a client route. */
const FILE_LIKE = /\/[^/]*\.[^/]*$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|webmanifest|txt|map)$/;

export interface WebAppOptions {
  /** The built app (index.html + assets/); undefined: DEFAULT_WEB_DIR. */
  root?: string | undefined;
  config: Pick<Config, 's3' | 'assetOrigin'>;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The origins media is read from and uploaded to when it lives in S3 (presigned URLs point there);
 * on disk it is served by Kith itself ('self').
 */
export function mediaOrigins(s3: Config['s3']): string[] {
  if (!s3) return [];
  if (s3.endpoint) {
    const url = new URL(s3.endpoint);
    return s3.forcePathStyle ? [url.origin] : [url.origin, `${url.protocol}//${s3.bucket}.${url.host}`];
  }
  return s3.forcePathStyle
    ? [`https://s3.${s3.region}.amazonaws.com`]
    : [`https://${s3.bucket}.s3.${s3.region}.amazonaws.com`];
}

/** A Host header fit to be written into a header value (anything else falls back to 'self' only). */
const SAFE_HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * The policy of the app's HTML: scripts and styles only from this origin (no inline script, no
 * eval), Trusted Types required for DOM XSS sinks, API and WebSocket calls to this origin, images
 * also from blob:/data: (previews of uploads, placeholders) and the media origin, never framed.
 */
export function contentSecurityPolicy(
  request: FastifyRequest,
  media: string[],
  assets: string[] = [],
): string {
  const host = request.host;
  const ws = SAFE_HOST.test(host) ? [`${request.protocol === 'https' ? 'wss' : 'ws'}://${host}`] : [];
  const directives: [string, string[]][] = [
    ['default-src', ["'self'"]],
    ['script-src', ["'self'", ...assets]],
    ['style-src', ["'self'", ...assets]],
    ['img-src', ["'self'", 'blob:', 'data:', ...media]],
    ['media-src', ["'self'", 'blob:', ...media]],
    ['font-src', ["'self'", ...assets]],
    ['connect-src', ["'self'", ...ws, ...media]],
    ['worker-src', ["'self'"]],
    ['manifest-src', ["'self'"]],
    ['object-src', ["'none'"]],
    ['frame-src', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'self'"]],
    ['require-trusted-types-for', ["'script'"]],
  ];
  return directives.map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}

/**
 * The policy of the service worker (dist/sw.js, scope `/`): a worker takes its CSP from its own
 * script's response, not from the page. It runs no other script and fetches only this origin and
 * the media origin (precache, media variants).
 */
export function serviceWorkerPolicy(media: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src ${["'self'", ...media].join(' ')}`,
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');
}

type Encoding = 'br' | 'gzip' | 'identity';

/** The best of br, gzip and identity the client accepts (q=0 refuses one). */
export function preferredEncoding(header: string | undefined): Encoding {
  if (!header) return 'identity';
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const weight = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = weight ? Number(weight.slice(2)) : 1;
    if (name) q.set(name, Number.isNaN(value) ? 0 : value);
  }
  const weightOf = (name: string) => q.get(name) ?? q.get('*') ?? 0;
  if (weightOf('br') > 0) return 'br';
  if (weightOf('gzip') > 0) return 'gzip';
  return 'identity';
}

interface IndexFile {
  mtimeMs: number;
  bodies: Record<Encoding, Buffer | undefined>;
}

/**
 * Serves the built web app at `/` in the embedded shape: hashed assets cached for a year, their
 * precompressed .br/.gz twins when accepted, index.html never cached and with the app's CSP, and
 * index.html for every other GET that is not one of the server's own paths (client routes).
 * Without a build it logs why and serves the API alone. Register after the API routes.
 */
export async function registerWebApp(app: FastifyInstance, options: WebAppOptions): Promise<boolean> {
  const root = options.root ?? DEFAULT_WEB_DIR;
  const indexPath = join(root, 'index.html');
  if (!existsSync(indexPath)) {
    options.logger.warn(
      { webDir: root },
      'web app not served: no index.html there (npm install builds it; or npm run build -w @kith/web)',
    );
    return false;
  }
  const media = mediaOrigins(options.config.s3);
  const assetOrigin = options.config.assetOrigin;
  const assets = assetOrigin ? [assetOrigin] : [];
  const serviceWorker = join(root, 'sw.js');
  const workerPolicy = serviceWorkerPolicy(media);

  await app.register(fastifyStatic, {
    root,
    // a route per file found now (no /* route that would swallow the API's 404s and 405s)
    wildcard: false,
    index: false,
    serve: true,
    preCompressed: true,
    cacheControl: false,
    etag: true,
    lastModified: true,
    // index.html is answered below, with its CSP; compressed twins are not URLs of their own
    globIgnore: ['**/index.html', '**/index.html.*', '**/*.br', '**/*.gz'],
    setHeaders: (reply, path) => {
      const hashed = path.includes(`${join(root, 'assets')}`);
      reply.header('Cache-Control', hashed ? IMMUTABLE : 'no-cache');
      // the worker is re-checked on every navigation (no-cache above) and carries its own policy
      if (path.replace(/\.(?:br|gz)$/, '') === serviceWorker)
        reply.header('Content-Security-Policy', workerPolicy);
      if (COMPRESSIBLE.test(path)) reply.header('Vary', 'Accept-Encoding');
    },
  });

  let index: IndexFile | undefined;
  const loadIndex = async (): Promise<IndexFile> => {
    const { mtimeMs } = await stat(indexPath);
    if (index?.mtimeMs === mtimeMs) return index;
    const optional = (path: string) => readFile(path).catch(() => undefined);
    if (assetOrigin) {
      // the built files come from the CDN: index.html's references point there (compressed anew)
      const html = (await readFile(indexPath, 'utf8')).replace(
        /(src|href)="\/assets\//g,
        `$1="${assetOrigin}/assets/`,
      );
      const identity = Buffer.from(html);
      index = { mtimeMs, bodies: { identity, br: brotliCompressSync(identity), gzip: gzipSync(identity) } };
      return index;
    }
    const [identity, br, gzip] = await Promise.all([
      readFile(indexPath),
      optional(`${indexPath}.br`),
      optional(`${indexPath}.gz`),
    ]);
    index = { mtimeMs, bodies: { identity, br, gzip } };
    return index;
  };

  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const { bodies } = await loadIndex();
    let encoding = preferredEncoding(request.headers['accept-encoding']);
    if (!bodies[encoding]) encoding = encoding === 'br' && bodies.gzip ? 'gzip' : 'identity';
    reply
      .code(200)
      .header('Content-Type', 'text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('Vary', 'Accept-Encoding')
      .header('Content-Security-Policy', contentSecurityPolicy(request, media, assets))
      .header('X-Frame-Options', 'DENY');
    if (encoding !== 'identity') reply.header('Content-Encoding', encoding);
    return reply.send(bodies[encoding]);
  };

  app.get('/', { schema: { hide: true } }, sendIndex);

  // Client routes: a GET that matched no route and is none of the server's paths gets the app.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404 || (request.method !== 'GET' && request.method !== 'HEAD')) return;
    const path = request.url.split('?')[0] ?? '/';
    if (SERVER_PATHS.test(path) || FILE_LIKE.test(path)) return;
    return sendIndex(request, reply);
  });

  options.logger.info({ webDir: root }, 'serving the web app at /');
  return true;
}
