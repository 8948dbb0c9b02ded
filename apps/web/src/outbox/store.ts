import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { OutboxItem } from './types.ts';

interface OutboxDB extends DBSchema {
  items: { key: number; value: OutboxItem; indexes: { byUser: string; byKey: string } };
}

/** Where the queue lives: one IndexedDB store shared by the tabs of this origin. */
export interface OutboxStore {
  /** The user's items in queue order. */
  list(userId: string): Promise<OutboxItem[]>;
  add(item: OutboxItem): Promise<OutboxItem>;
  get(key: string): Promise<OutboxItem | undefined>;
  put(item: OutboxItem): Promise<void>;
  remove(key: string): Promise<void>;
}

const DB_NAME = 'kith-outbox';

export function idbOutboxStore(): OutboxStore {
  let db: Promise<IDBPDatabase<OutboxDB>> | undefined;
  const open = () => {
    db ??= openDB<OutboxDB>(DB_NAME, 1, {
      upgrade(database) {
        const items = database.createObjectStore('items', { keyPath: 'seq', autoIncrement: true });
        items.createIndex('byUser', 'userId');
        items.createIndex('byKey', 'key', { unique: true });
      },
    });
    return db;
  };
  return {
    // the primary key is the queue order, and an index lists by its primary key's order
    list: async (userId) => (await open()).getAllFromIndex('items', 'byUser', userId),
    async add(item) {
      const { seq: _omit, ...rest } = item;
      const seq = await (await open()).add('items', rest as OutboxItem);
      return { ...rest, seq };
    },
    get: async (key) => (await open()).getFromIndex('items', 'byKey', key),
    async put(item) {
      await (await open()).put('items', item);
    },
    async remove(key) {
      const database = await open();
      const tx = database.transaction('items', 'readwrite');
      const seq = await tx.store.index('byKey').getKey(key);
      if (seq !== undefined) await tx.store.delete(seq);
      await tx.done;
    },
  };
}
