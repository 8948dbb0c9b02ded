import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './scripts/precompress.ts';
import { pwa } from './scripts/pwa.ts';

const api = process.env.KITH_API_URL ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react(), pwa(), precompress()],
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
      '/docs': api,
    },
  },
});
