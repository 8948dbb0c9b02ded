import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { DEFAULT_WEB_DIR } from '../src/platform/http/web-app.ts';
import { buildTestApp } from './helpers/app.ts';

const CDN = 'https://cdn.kith.example';

// the web build is made by `npm ci` (root prepare script); without it there is nothing to point at a CDN
describe.skipIf(!existsSync(join(DEFAULT_WEB_DIR, 'index.html')))(
  'ASSET_ORIGIN: the built files from a CDN',
  () => {
    it('points index.html at the CDN and lets the CSP load scripts and styles from it', async () => {
      const t = await buildTestApp({ ASSET_ORIGIN: CDN });
      const res = await t.app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'identity' } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(`src="${CDN}/assets/`);
      expect(res.body).not.toMatch(/(src|href)="\/assets\//);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toMatch(new RegExp(`script-src 'self' ${CDN}(;|$)`));
      expect(csp).toMatch(new RegExp(`style-src 'self' ${CDN}(;|$)`));
      expect(csp).toContain("require-trusted-types-for 'script'");
      // the compressed answers are the rewritten page too
      const br = await t.app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.rawPayload).toString('utf8')).toBe(res.body);
    });

    it('refuses an ASSET_ORIGIN that is not an origin', () => {
      for (const bad of ['cdn.kith.example', 'https://cdn.kith.example/assets', 'javascript:alert(1)']) {
        expect(() => loadConfig({ NODE_ENV: 'test', ASSET_ORIGIN: bad })).toThrow(/ASSET_ORIGIN/);
      }
    });
  },
);
