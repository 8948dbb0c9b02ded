import type { IncomingMessage } from 'node:http';
import { uuidv7 } from 'uuidv7';

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's X-Request-Id when it is short and harmless; otherwise makes a new one. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : uuidv7();
}
