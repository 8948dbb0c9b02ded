declare module 'virtual:kith-catalogue' {
  import type { Catalogue } from './runtime.ts';

  /** The English catalogue: fetched (a preloaded JSON asset) in a build, imported in dev and tests. */
  const loadCatalogue: () => Promise<Catalogue>;
  export default loadCatalogue;
}
