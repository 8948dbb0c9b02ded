import { cleanup } from '@testing-library/react';
import { afterEach, beforeAll } from 'vitest';
import { initI18n } from '../i18n/index.ts';

beforeAll(async () => {
  await initI18n((process.env.KITH_TEST_LOCALE as 'en' | 'pseudo' | undefined) ?? 'en');
});
afterEach(() => cleanup());
