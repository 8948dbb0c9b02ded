import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll } from 'vitest';

export interface ReceivedMail {
  to: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

export interface TestSmtp {
  port: number;
  /** Every message received so far, in order. */
  received: ReceivedMail[];
  /** Resolves with the `n`-th message (1-based) once it has arrived; rejects after `timeoutMs`. */
  nth(n: number, timeoutMs?: number): Promise<ReceivedMail>;
  /** The env that points an app at this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free loopback port (the `smtp-server` package): the protocol boundary
 * Kith's mail leaves through. Closed after the file.
 */
export async function startSmtp(): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, parsed });
            for (const wake of waiters.splice(0)) wake();
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  afterAll(close);
  return {
    port,
    received,
    env: { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_FROM: 'Kith <no-reply@kith.test>' },
    nth(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`mail #${n} not received within ${timeoutMs} ms (got ${received.length})`)),
          timeoutMs,
        );
        const check = () => {
          const mail = received[n - 1];
          if (mail) {
            clearTimeout(timer);
            resolve(mail);
          } else waiters.push(check);
        };
        check();
      });
    },
    close,
  };
}

/** The token in the first link of a mail's text part that has `?token=`. */
export function tokenIn(mail: ReceivedMail | ParsedMail): string {
  const text = ('parsed' in mail ? mail.parsed : mail).text ?? '';
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(text);
  if (!match) throw new Error(`no token link in: ${text}`);
  return match[1]!;
}
