import type { ServerMessage } from '@kith/contract';
import { afterAll } from 'vitest';
import WebSocket from 'ws';

export interface TestSocket {
  ws: WebSocket;
  /** Every event received so far, in order. */
  events: ServerMessage[];
  /** Resolves with the first event (past or future) matching `predicate`; rejects after `timeoutMs`. */
  waitFor<T extends ServerMessage['type']>(
    type: T,
    predicate?: (event: Extract<ServerMessage, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }>>;
  /** Resolves once `count` events match (past or future). */
  waitForCount<T extends ServerMessage['type']>(
    type: T,
    count: number,
    predicate?: (event: Extract<ServerMessage, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }>[]>;
  /** Sends an object as JSON (a string or Buffer as it is). */
  send(message: object | string | Buffer, options?: { binary?: boolean }): void;
  /** Resolves with the close code and reason once the socket is closed (by either side). */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

const open = new Set<WebSocket>();
afterAll(async () => {
  await Promise.all([...open].map((ws) => closeSocket(ws)));
});

async function closeSocket(ws: WebSocket) {
  if (ws.readyState === WebSocket.CLOSED) return;
  const done = new Promise((resolve) => ws.once('close', resolve));
  ws.terminate();
  await done;
}

/** `http://host:port` → the realtime URL with `ticket`. */
export const realtimeUrl = (baseUrl: string, ticket?: string) =>
  `${baseUrl.replace(/^http/, 'ws')}/api/v1/realtime${ticket === undefined ? '' : `?ticket=${encodeURIComponent(ticket)}`}`;

/** A fresh ticket for the user holding `accessToken`, from `baseUrl`. */
export async function ticketFor(baseUrl: string, accessToken: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/realtime/ticket`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (res.status !== 200) throw new Error(`ticket: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { ticket: string }).ticket;
}

export interface ConnectOptions {
  origin?: string;
  /** false: the client never answers pings (a silent client). */
  autoPong?: boolean;
  /** Wait for the server's `hello` (default true). */
  waitHello?: boolean;
  /**
   * Sends `resume` with these positions as soon as the socket opens, as a client should (`{}`: nothing
   * to resume). Without it the server holds live chat messages until REALTIME_RESUME_WAIT_MS passes
   * or the test sends a first frame.
   */
  resume?: Record<string, number>;
}

/** Opens an authenticated socket (ticket first) and waits for `hello`. */
export async function connect(
  baseUrl: string,
  accessToken: string,
  options: ConnectOptions = {},
): Promise<TestSocket> {
  const ticket = await ticketFor(baseUrl, accessToken);
  return connectWithTicket(baseUrl, ticket, options);
}

export async function connectWithTicket(
  baseUrl: string,
  ticket: string,
  options: ConnectOptions = {},
): Promise<TestSocket> {
  const ws = new WebSocket(realtimeUrl(baseUrl, ticket), {
    ...(options.origin ? { origin: options.origin } : {}),
    autoPong: options.autoPong ?? true,
    maxPayload: 1024 * 1024,
  });
  open.add(ws);
  const events: ServerMessage[] = [];
  const wakers = new Set<() => void>();
  ws.on('message', (data) => {
    events.push(JSON.parse(data.toString()));
    for (const wake of wakers) wake();
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => {
      open.delete(ws);
      for (const wake of wakers) wake();
      resolve({ code, reason: reason.toString() });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  if (options.resume) ws.send(JSON.stringify({ type: 'resume', conversations: options.resume }));

  const waitForCount: TestSocket['waitForCount'] = (type, count, predicate, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const matching = () =>
        events.filter((e) => e.type === type && (!predicate || predicate(e as never))) as Extract<
          ServerMessage,
          { type: typeof type }
        >[];
      const check = () => {
        const found = matching();
        if (found.length >= count) {
          done();
          resolve(found.slice(0, count) as never);
        } else if (ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed with ${found.length}/${count} ${type} events`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`only ${matching().length}/${count} ${type} events within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        wakers.delete(check);
      };
      wakers.add(check);
      check();
    });

  const socket: TestSocket = {
    ws,
    events,
    waitForCount,
    waitFor: async (type, predicate, timeoutMs) => (await waitForCount(type, 1, predicate, timeoutMs))[0]!,
    send(message, sendOptions) {
      const data =
        typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message);
      ws.send(data, { binary: sendOptions?.binary ?? false });
    },
    closed,
    close: () => closeSocket(ws),
  };
  if (options.waitHello ?? true) await socket.waitFor('hello');
  return socket;
}

/** The HTTP status and error code a refused upgrade answers with (101 when it is accepted). */
export async function upgradeStatus(
  baseUrl: string,
  ticket: string | undefined,
  origin?: string,
): Promise<{ status: number; code?: string }> {
  const ws = new WebSocket(realtimeUrl(baseUrl, ticket), origin ? { origin } : {});
  ws.on('error', () => {});
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, code: body ? JSON.parse(body).error?.code : undefined });
      });
    });
  });
}

/** Resolves once `check` returns true (polled every 20 ms): for state with no event to wait on, such as a metric. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
