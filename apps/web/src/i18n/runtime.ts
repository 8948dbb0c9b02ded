/**
 * Kith's message runtime (docs/adr/0006-i18n-runtime.md): reads the catalogue in i18next's JSON
 * format — nested keys, `{{name}}` placeholders, plural forms as `key_zero`/`key_one`/`key_other`…
 * chosen by the platform's CLDR rules (`Intl.PluralRules`) — in about 1 KiB instead of i18next's 15.
 * Keys are checked at compile time against the English catalogue.
 */
import type en from './en.json';

type PluralSuffix = '_zero' | '_one' | '_two' | '_few' | '_many' | '_other';
type StripPlural<K extends string> = K extends `${infer B}${PluralSuffix}` ? B : K;
type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${StripPlural<K>}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];

/** Every message id of the catalogue, e.g. `'feed.title'` or `'post.reactionCount'`. */
export type MessageKey = Leaves<typeof en>;
export type Values = Record<string, string | number | undefined>;
export type TFunction = (key: MessageKey, values?: Values) => string;
export type Catalogue = { [key: string]: string | Catalogue };

export interface Translator {
  readonly language: string;
  t: TFunction;
}

const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

/**
 * A translator over one catalogue. A missing key is shown as the key itself (as i18next does), so
 * a gap is visible rather than blank; a missing value leaves its placeholder empty.
 */
export function createTranslator(
  catalogue: Catalogue,
  language: string,
  pluralLocale = language,
): Translator {
  const plurals = new Intl.PluralRules(pluralLocale);
  const lookup = (key: string): string | undefined => {
    let node: string | Catalogue | undefined = catalogue;
    for (const part of key.split('.')) {
      if (typeof node !== 'object') return undefined;
      node = node[part];
    }
    return typeof node === 'string' ? node : undefined;
  };
  const t: TFunction = (key, values) => {
    const count = values?.count;
    let message: string | undefined;
    if (typeof count === 'number') {
      message =
        (count === 0 ? lookup(`${key}_zero`) : undefined) ??
        lookup(`${key}_${plurals.select(count)}`) ??
        lookup(`${key}_other`);
    }
    message ??= lookup(key);
    if (message === undefined) return key;
    return values ? message.replace(PLACEHOLDER, (_, name: string) => String(values[name] ?? '')) : message;
  };
  return { language, t };
}
