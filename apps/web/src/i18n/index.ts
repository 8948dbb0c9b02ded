import loadCatalogue from 'virtual:kith-catalogue';
import { type Catalogue, createTranslator, type TFunction, type Translator } from './runtime.ts';

export const LOCALES = ['en', 'pseudo'] as const;
export type Locale = (typeof LOCALES)[number];
export type { MessageKey, TFunction } from './runtime.ts';

const STORAGE_KEY = 'kith.locale';

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

/** Until initI18n has the catalogue, every message is its key (nothing renders before that). */
let current: Translator = createTranslator({}, 'en');

/**
 * The app's translator, for code outside components (error messages of the API client…).
 * `i18next.t('errors.network')`; the name is kept from the library it replaced (ADR 0006).
 */
export const i18next: Translator = {
  get language() {
    return current.language;
  },
  t: (key, values) => current.t(key, values),
};

/** Starts the catalogue before the first render. The pseudo-locale is built from English in a chunk of its own. */
export async function initI18n(locale: Locale = requestedLocale()): Promise<Translator> {
  let catalogue: Catalogue = await loadCatalogue();
  if (locale === 'pseudo') {
    const { pseudoCatalogue } = await import('./pseudo.ts');
    catalogue = pseudoCatalogue(catalogue);
  }
  current = createTranslator(catalogue, locale, locale === 'pseudo' ? 'en' : locale);
  if (typeof document !== 'undefined') document.documentElement.lang = locale === 'pseudo' ? 'en-XA' : locale;
  return i18next;
}

/**
 * Messages in a component: `const { t } = useTranslation()`. The locale is fixed for the life of
 * the page (`?lang=` reloads), so this needs no context or re-render.
 */
export function useTranslation(): { t: TFunction; i18n: Translator } {
  return { t: i18next.t, i18n: i18next };
}
