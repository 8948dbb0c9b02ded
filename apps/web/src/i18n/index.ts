import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';

export const LOCALES = ['en', 'pseudo'] as const;
export type Locale = (typeof LOCALES)[number];
const STORAGE_KEY = 'kith.locale';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof en };
  }
}

/** The locale asked for by `?lang=` (kept for the session) or stored earlier; English otherwise. */
export function requestedLocale(search = globalThis.location?.search ?? ''): Locale {
  const fromUrl = new URLSearchParams(search).get('lang');
  const stored = fromUrl ?? safeStorage()?.getItem(STORAGE_KEY) ?? 'en';
  const locale = (LOCALES as readonly string[]).includes(stored) ? (stored as Locale) : 'en';
  if (fromUrl) safeStorage()?.setItem(STORAGE_KEY, locale);
  return locale;
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

/** Starts the catalogue. The pseudo-locale is built from English in a chunk of its own. */
export async function initI18n(locale: Locale = requestedLocale()): Promise<typeof i18next> {
  const resources: Record<string, { translation: typeof en }> = { en: { translation: en } };
  if (locale === 'pseudo') {
    const { pseudoCatalogue } = await import('./pseudo.ts');
    resources.pseudo = { translation: pseudoCatalogue(en) as typeof en };
  }
  await i18next.use(initReactI18next).init({
    lng: locale,
    fallbackLng: false,
    resources,
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });
  document.documentElement.lang = locale === 'pseudo' ? 'en-XA' : locale;
  return i18next;
}

export { i18next };
