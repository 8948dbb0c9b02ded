import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { catalogue } from './scripts/catalogue.ts';
import { precompress } from './scripts/precompress.ts';
import { pwa } from './scripts/pwa.ts';

const api = process.env.KITH_API_URL ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react(), catalogue(), pwa(), precompress()],
  resolve: {
    // Kith's message runtime answers for the react-i18next API the screens use (ADR 0006)
    alias: { 'react-i18next': fileURLToPath(new URL('./src/i18n/react-i18next.ts', import.meta.url)) },
  },
  build: {
    target: 'es2022',
    sourcemap: true,
    // bench/web.ts reads the chunk graph from .vite/manifest.json
    manifest: true,
    // index.html must never carry an inline script (strict CSP): keep the module preload polyfill
    // out and let every asset be a file.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            // the libraries the entry needs, in one file: one request and one gzip dictionary
            // instead of a dozen small shared chunks each paying their own
            { name: 'vendor', tags: ['$initial'], test: /node_modules/ },
            // likewise the app's own modules that the entry shares with the screens
            { name: 'app', tags: ['$initial'], test: /[\\/]apps[\\/]web[\\/]src[\\/]/, minShareCount: 2 },
            // the query hooks the lazy screens share (useQuery, useInfiniteQuery, useMutation)
            { name: 'query', test: /node_modules[\\/]@tanstack[\\/](?:react-query|query-core)[\\/]/ },
          ],
        },
      },
      treeshake: {
        // @kith/contract's index re-exports the realtime protocol's TypeBox schemas; the app uses
        // only their types, so neither that module nor TypeBox may reach the bundle unless used.
        moduleSideEffects: (id: string) =>
          !/[\\/](?:typebox[\\/]|contract[\\/]src[\\/]realtime\.ts)/.test(id),
      },
    },
  },
  server: {
    // `npm run dev`: Vite with HMR here, the API (and its WebSocket) from a running Kith.
    proxy: {
      '/api': { target: api, changeOrigin: false, ws: true },
      '/openapi.json': api,
      '/asyncapi.json': api,
      '/docs': api,
    },
  },
});
