import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LONE_SURROGATE = /\p{Cs}/u;
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;.*)?$/i;

/** Throws when a parsed JSON value nests deeper than `maxDepth` or holds a string with NUL. */
export function checkJsonValue(value: unknown, maxDepth: number): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) throw new AppError('NUL_CHARACTER');
      // half a UTF-16 pair ("\ud800") cannot be stored as UTF-8: refuse it rather than mangle it
      if (LONE_SURROGATE.test(node))
        throw new AppError('INVALID_UTF8', 'Strings must be well-formed Unicode.');
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) throw new AppError('JSON_TOO_DEEP', `JSON may nest at most ${maxDepth} levels.`);
    for (const [key, child] of Object.entries(node)) {
      if (key.includes('\u0000')) throw new AppError('NUL_CHARACTER');
      stack.push([child, depth + 1]);
    }
  }
}

/**
 * The JSON body parser: strict UTF-8, no prototype-poisoning keys, bounded depth, no NUL in strings
 * (Postgres cannot store it), so that hostile bodies get a 400 before any handler runs.
 */
export function registerJsonParser(app: FastifyInstance, maxDepth: number): void {
  // Fastify's text/plain parser goes too: the API speaks JSON, anything else is a 415.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // Fastify tests the whole header, parameters included (`application/json; charset=utf-8`).
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (_req, body, done) => {
    const buffer = body as Buffer;
    if (buffer.length === 0) return done(null, undefined);
    let text: string;
    try {
      text = utf8.decode(buffer);
    } catch {
      return done(new AppError('INVALID_UTF8'), undefined);
    }
    let value: unknown;
    try {
      value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      const forbidden = err instanceof SyntaxError && /prototype|constructor/i.test(err.message);
      return done(new AppError(forbidden ? 'FORBIDDEN_KEY' : 'INVALID_JSON'), undefined);
    }
    try {
      checkJsonValue(value, maxDepth);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, value);
  });
}
