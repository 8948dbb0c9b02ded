import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { catalogue } from './scripts/catalogue.ts';

export default defineConfig({
  plugins: [react(), catalogue()],
  resolve: {
    // as in vite.config.ts: Kith's message runtime answers for react-i18next (ADR 0006)
    alias: { 'react-i18next': fileURLToPath(new URL('./src/i18n/react-i18next.ts', import.meta.url)) },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'jsdom',
          include: ['src/**/*.test.{ts,tsx}'],
          setupFiles: ['src/test/setup.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['e2e/**/*.e2e.test.ts'],
          // the server's: one migrated template database, cloned per test file
          globalSetup: ['../server/test/helpers/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
