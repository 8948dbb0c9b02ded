import type { Me } from '../auth/session.ts';
import { kv } from './kv.ts';

const KEY = 'last-user';

/** Who was signed in on this device, so the app opens with their saved data when the network is down. */
export const lastUser = {
  get: () => kv.get<Me>(KEY),
  set: (user: Me) => kv.set(KEY, user),
  clear: () => kv.del(KEY),
};
