import type { Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const THEME = '#3b5bdb';

/**
 * The service worker (src/pwa/sw.ts, injectManifest) and the web app manifest. The page registers
 * the worker itself, lazily (src/pwa/register.ts), so nothing is injected into index.html but the
 * manifest link: no inline script (strict CSP).
 */
export function pwa(): Plugin[] {
  return [
    ...VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/pwa',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifestFilename: 'manifest.webmanifest',
      includeAssets: ['favicon.svg', 'icons/apple-touch-icon.png'],
      manifest: {
        id: '/',
        name: 'Kith',
        short_name: 'Kith',
        description: 'Your friends, their posts, your conversations.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: THEME,
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        // json: the message catalogue (scripts/catalogue.ts), needed before the first render
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest,json}'],
        globIgnores: ['**/node_modules/**', 'sw.js', '**/*.map'],
        // the server answers the shell at `/` (there is no /index.html URL)
        manifestTransforms: [
          async (entries) => ({
            manifest: entries.map((e) => (e.url === 'index.html' ? { ...e, url: '/' } : e)),
            warnings: [],
          }),
        ],
        // hashed route chunks are a few hundred KiB in all; a runaway one is a build error
        maximumFileSizeToCacheInBytes: 2 * 1024 * 1024,
      },
    }),
    head(),
  ];
}

/** The install metadata the manifest cannot carry: browser chrome colour, the iOS home-screen icon. */
function head(): Plugin {
  return {
    name: 'kith-pwa-head',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { name: 'theme-color', content: THEME }, injectTo: 'head' },
      {
        tag: 'link',
        attrs: { rel: 'apple-touch-icon', href: '/icons/apple-touch-icon.png' },
        injectTo: 'head',
      },
    ],
  };
}
