/**
 * The pseudo-locale: every catalogue string accented, lengthened by ~40 % and bracketed, so a
 * string that reaches the screen without going through the catalogue stands out (and a test finds
 * it), and layouts are tried with longer text. Placeholders (`{{name}}`) and `<0>` tags are kept.
 */
const ACCENTED: Record<string, string> = {
  a: 'á',
  b: 'ƀ',
  c: 'ç',
  d: 'ð',
  e: 'é',
  f: 'ƒ',
  g: 'ĝ',
  h: 'ĥ',
  i: 'í',
  j: 'ĵ',
  k: 'ķ',
  l: 'ľ',
  m: 'ɱ',
  n: 'ñ',
  o: 'ó',
  p: 'þ',
  q: 'ǫ',
  r: 'ŕ',
  s: 'š',
  t: 'ţ',
  u: 'ú',
  v: 'ṽ',
  w: 'ŵ',
  x: 'ẋ',
  y: 'ý',
  z: 'ž',
  A: 'Á',
  B: 'Ɓ',
  C: 'Ç',
  D: 'Ð',
  E: 'É',
  F: 'Ƒ',
  G: 'Ĝ',
  H: 'Ĥ',
  I: 'Í',
  J: 'Ĵ',
  K: 'Ķ',
  L: 'Ľ',
  M: 'Ṁ',
  N: 'Ñ',
  O: 'Ó',
  P: 'Þ',
  Q: 'Ǫ',
  R: 'Ŕ',
  S: 'Š',
  T: 'Ţ',
  U: 'Ú',
  V: 'Ṽ',
  W: 'Ŵ',
  X: 'Ẋ',
  Y: 'Ý',
  Z: 'Ž',
};

export const PSEUDO_OPEN = '⟦';
export const PSEUDO_CLOSE = '⟧';

export function pseudoLocalize(text: string): string {
  let out = '';
  let vowels = 0;
  // split keeps the placeholders and tags as their own parts (odd indexes)
  const parts = text.split(/(\{\{[^}]+\}\}|<\/?\d+>)/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      out += part;
      return;
    }
    for (const ch of part) {
      out += ACCENTED[ch] ?? ch;
      if ('aeiouAEIOU'.includes(ch)) vowels += 1;
    }
  });
  return `${PSEUDO_OPEN}${out}${'~'.repeat(Math.ceil(vowels * 0.6))}${PSEUDO_CLOSE}`;
}

type Catalogue = { [key: string]: string | Catalogue };

export function pseudoCatalogue(source: Catalogue): Catalogue {
  const out: Catalogue = {};
  for (const [key, value] of Object.entries(source)) {
    out[key] = typeof value === 'string' ? pseudoLocalize(value) : pseudoCatalogue(value);
  }
  return out;
}
