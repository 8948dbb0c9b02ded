import { type DBSchema, type IDBPDatabase, openDB } from 'idb';

interface KvDB extends DBSchema {
  kv: { key: string; value: unknown };
}

let db: Promise<IDBPDatabase<KvDB>> | undefined;
const open = () => {
  db ??= openDB<KvDB>('kith-offline', 1, {
    upgrade(database) {
      database.createObjectStore('kv');
    },
  });
  return db;
};

/** A small key-value store in IndexedDB (structured clones, no JSON round trip): the persisted query caches and the last user. */
export const kv = {
  get: async <T>(key: string): Promise<T | undefined> =>
    (await (await open()).get('kv', key)) as T | undefined,
  set: async (key: string, value: unknown): Promise<void> => {
    await (await open()).put('kv', value, key);
  },
  del: async (key: string): Promise<void> => {
    await (await open()).delete('kv', key);
  },
};
