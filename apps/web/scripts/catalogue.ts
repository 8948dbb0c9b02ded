import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const ID = 'virtual:kith-catalogue';
const RESOLVED = `\0${ID}`;
const SOURCE = fileURLToPath(new URL('../src/i18n/en.json', import.meta.url));

/**
 * The message catalogue ships as data, not code: in a build `en.json` becomes a hashed, minified
 * JSON asset that index.html preloads (so it downloads beside the entry script) and the app
 * fetches before its first render — JSON.parse is cheaper than compiling the same object as
 * JavaScript, and a changed string no longer changes the code chunk's hash. In dev and tests the
 * module imports the file directly.
 *
 * `import loadCatalogue from 'virtual:kith-catalogue'` → `() => Promise<Catalogue>`.
 */
export function catalogue(): Plugin {
  let build = false;
  let asset: string | undefined;
  return {
    name: 'kith-catalogue',
    configResolved(config) {
      build = config.command === 'build' && config.mode !== 'test';
    },
    resolveId(id) {
      return id === ID ? RESOLVED : undefined;
    },
    async load(id) {
      if (id !== RESOLVED) return undefined;
      if (!build) return `import en from ${JSON.stringify(SOURCE)};\nexport default async () => en;`;
      this.addWatchFile(SOURCE);
      const json = JSON.stringify(JSON.parse(await readFile(SOURCE, 'utf8')));
      const ref = this.emitFile({ type: 'asset', name: 'en.json', source: json });
      return [
        `const url = import.meta.ROLLUP_FILE_URL_${ref};`,
        'export default async () => {',
        "  const res = await fetch(url, { credentials: 'same-origin' });",
        "  if (!res.ok) throw new Error('catalogue: ' + res.status);",
        '  return res.json();',
        '};',
      ].join('\n');
    },
    generateBundle(_, bundle) {
      asset = Object.values(bundle).find(
        (o) => o.type === 'asset' && (o.names?.includes('en.json') || o.name === 'en.json'),
      )?.fileName;
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const file =
          asset ??
          Object.values(ctx.bundle ?? {}).find(
            (o) => o.type === 'asset' && (o.names?.includes('en.json') || o.name === 'en.json'),
          )?.fileName;
        if (!file) return html;
        return {
          html,
          tags: [
            {
              tag: 'link',
              attrs: { rel: 'preload', href: `/${file}`, as: 'fetch', crossorigin: '' },
              injectTo: 'head',
            },
          ],
        };
      },
    },
  };
}
