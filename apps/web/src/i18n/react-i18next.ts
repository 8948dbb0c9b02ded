/**
 * `import { useTranslation } from 'react-i18next'` resolves here (vite.config.ts, vitest.config.ts
 * and tsconfig.json alias it): the screens written against react-i18next keep working on Kith's
 * runtime. New code imports from `src/i18n/index.ts`. See docs/adr/0006-i18n-runtime.md.
 */
export { useTranslation } from './index.ts';
