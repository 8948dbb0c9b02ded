import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { uuidv7 } from 'uuidv7';
import { ERRORS, type ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EdgeHeaders } from './edge-headers.ts';
import { errorBody } from './error-handler.ts';
import type { LingeringClose } from './lingering-close.ts';

/** What Node's `clientError` event carries: a parser error (HPE_*) with the bytes it choked on, or a timeout. */
export interface ClientError extends Error {
  code?: string;
  rawPacket?: unknown;
}

/** The catalogue code for a parser or timeout error (anything else the parser refuses is a 400). */
export function clientErrorCode(err: ClientError): ErrorCode {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE';
  return 'BAD_REQUEST';
}

const ORIGIN_LINE = /\r\norigin:[ \t]*([^\r\n]*?)[ \t]*\r\n/i;

/** The Origin header of a request the parser refused, read from the raw bytes it was given. */
export function originOf(raw: unknown): string | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  // headers come before the first empty line; a header larger than the limit may have no end
  const text = raw.toString('latin1', 0, Math.min(raw.length, 64 * 1024));
  const end = text.indexOf('\r\n\r\n');
  return ORIGIN_LINE.exec(end === -1 ? text : text.slice(0, end + 2))?.[1];
}

/** Header values are written raw: never let one carry a line break. */
const safe = (value: string) => value.replace(/[\r\n]/g, '');

export interface ClientErrorDeps {
  edgeHeaders: EdgeHeaders;
  lingering: LingeringClose;
  logger: Logger;
  metrics: Pick<Metrics, 'httpRequests'>;
}

/**
 * The answer to what Node's HTTP parser refuses before any request exists — malformed framing
 * (400), headers over the size limit (431), headers or body not received in time (408): a complete
 * HTTP response with Kith's error body, a fresh request id, the security headers and CORS, like
 * every other answer. Malformed requests get a lingering close so the client can read the answer;
 * a client that timed out is cut at once (it is too slow to be worth waiting for).
 */
export function createClientErrorHandler(deps: ClientErrorDeps) {
  const { edgeHeaders, lingering, logger, metrics } = deps;
  return function onClientError(err: ClientError, socket: Socket): void {
    // a reset connection has nobody to answer; a lingering one was answered already
    if (err.code === 'ECONNRESET' || socket.destroyed || lingering.has(socket)) return;
    // Node's own rule: answer only if no response has started on this socket, else just cut it
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const code = clientErrorCode(err);
    const status = ERRORS[code][0];
    const requestId = uuidv7();
    const body = JSON.stringify(errorBody(code, requestId));
    const headers: Record<string, string | number> = {
      ...edgeHeaders(originOf(err.rawPacket)),
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'X-Request-Id': requestId,
      Date: new Date().toUTCString(),
      Connection: 'close',
    };
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${safe(String(value))}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
    metrics.httpRequests.inc({ method: 'unparsed', route: 'unparsed', status: String(status) });
    logger.warn(
      { request_id: requestId, status, error_code: code, reason: err.code, ip: socket.remoteAddress },
      'request refused by the HTTP parser',
    );
    if (code === 'REQUEST_TIMEOUT') {
      // a handler still waiting for this request's body may write after the end: nothing to do
      socket.on('error', () => {});
      socket.end();
      socket.once('finish', () => socket.destroy());
      return;
    }
    lingering.close(socket);
  };
}
