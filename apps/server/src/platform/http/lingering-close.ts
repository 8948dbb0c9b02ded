import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface LingerLimits {
  /** Longest a closing connection is kept to read what the client still sends. */
  timeoutMs: number;
  /** Most bytes read and discarded before closing anyway. */
  maxBytes: number;
}

type ClosableSocket = Socket & { destroySoon?: () => void };

const ignore = () => {};
/** How often a draining socket's byte count is compared with the budget. */
const CHECK_INTERVAL_MS = 20;

/** Whether the client is still sending a body the server has not read to its end. */
export function bodyStillComing(request: IncomingMessage): boolean {
  // Node's requests start with `complete: false`; an injected one (tests) has no socket to drain
  if (request.complete !== false) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

/**
 * Lingering close (RFC 9112 §9.6): a server that answers before it has read the request — 413,
 * or any early 4xx — and then closes while the client is still sending makes the client's TCP
 * stack receive a reset, which can throw away the answer before the client reads it; `fetch` and
 * browsers then report a network error instead of "too large". So the answer goes out with
 * `Connection: close`, the write side is shut (FIN), and what the client still sends is read and
 * discarded, within a time and a byte budget, before the socket is destroyed.
 */
export class LingeringClose {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly limits: LingerLimits) {}

  /** Whether `socket` is already answered and only being drained. */
  has(socket: Socket): boolean {
    return this.sockets.has(socket);
  }

  /**
   * Shuts the write side of `socket` once its pending writes are flushed, drains it within the
   * limits, then destroys it. `request`, when there is one, is the body to drain (it may have been
   * paused by a consumer that gave up, e.g. a multipart parser past its limit).
   */
  close(socket: Socket, request?: IncomingMessage): void {
    if (socket.destroyed || this.sockets.has(socket)) return;
    this.sockets.add(socket);
    // resets and write-after-end errors are what a client that keeps sending causes: expected
    socket.on('error', ignore);
    const start = socket.bytesRead;
    const done = () => socket.destroy();
    const check = () => {
      if (socket.bytesRead - start > this.limits.maxBytes) done();
    };
    const timer = setTimeout(done, this.limits.timeoutMs);
    // The HTTP parser reads the socket below the stream API (no 'data' events; listening for them
    // would take the socket from the parser), so the byte budget is checked on a short interval.
    const meter = setInterval(check, CHECK_INTERVAL_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      clearInterval(meter);
      this.sockets.delete(socket);
    });
    // the client read the answer and closed its side: nothing left to wait for
    socket.once('end', done);
    if (request) {
      // a consumer that gave up (a multipart parser past its limit) may hold the body paused
      request.unpipe();
      request.resume();
    }
    socket.resume();
    socket.end();
  }

  /**
   * Makes the close that follows a `Connection: close` answer on this request's socket a lingering
   * one. Node's HTTP server ends such a socket with `destroySoon()` (end, then destroy once the
   * answer is flushed); this socket's own `destroySoon` lingers instead.
   */
  armFor(request: IncomingMessage): void {
    const socket = request.socket as ClosableSocket;
    if (socket.destroyed || this.sockets.has(socket)) return;
    socket.destroySoon = () => this.close(socket, request);
  }

  /** Destroys every socket still lingering (at shutdown: they owe the server nothing). */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/**
 * Answers sent while the client is still sending its body (413 for a declared length over the
 * limit, 401 or 429 before an upload is read, a multipart file past the cap) close the connection
 * with a lingering close, so that the client reads them.
 */
export function registerLingeringClose(app: FastifyInstance, lingering: LingeringClose): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (bodyStillComing(request.raw)) {
      reply.header('Connection', 'close');
      lingering.armFor(request.raw);
    }
    return payload;
  });
  app.addHook('preClose', (done) => {
    lingering.destroyAll();
    done();
  });
}
