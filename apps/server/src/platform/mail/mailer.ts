import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { uuidv7 } from 'uuidv7';
import type { Config } from '../../config.ts';
import type { Logger } from '../observability/logger.ts';

/** One message, already rendered: a text and an HTML part of the same content. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
}

export interface SentMail {
  messageId: string;
  /** Where the embedded outbox wrote it (the .eml file); undefined for SMTP. */
  path?: string;
}

/** Sends mail: SMTP in the scaled shape, a local outbox of .eml files in the embedded one. */
export interface Mailer {
  send(message: MailMessage): Promise<SentMail>;
  close(): Promise<void>;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

/** SMTP through nodemailer's connection pool; TLS required unless the server is on loopback. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    smtp: NonNullable<Config['mail']['smtp']>,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 5,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      // a relay on another host is never spoken to in clear text: STARTTLS or refuse
      requireTLS: !smtp.secure && !LOOPBACK.test(smtp.host),
      ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
      tls: { minVersion: 'TLSv1.2' },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(message: MailMessage): Promise<SentMail> {
    const info = await this.transport.sendMail({ from: this.from, ...message });
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/**
 * The embedded shape's outbox: each message, built by nodemailer as a complete RFC 5322 message,
 * is written to `<dir>/<id>.eml` (written aside, then renamed: a reader never sees half a file)
 * and the log says where, so a developer can open the link without any mail server.
 */
export class OutboxMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly dir: string,
    private readonly from: string,
    private readonly logger: Logger,
  ) {
    this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  }

  async send(message: MailMessage): Promise<SentMail> {
    const info = await this.transport.sendMail({ from: this.from, ...message });
    const id = uuidv7();
    const path = join(this.dir, `${id}.eml`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(`${path}.tmp`, info.message as Buffer, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
    this.logger.info({ mail_path: path, subject: message.subject }, 'mail written to the local outbox');
    return { messageId: info.messageId, path };
  }

  async close(): Promise<void> {}
}

/** SMTP when SMTP_HOST is set, otherwise the outbox under DATA_DIR/mail. */
export function createMailer(config: Pick<Config, 'mail' | 'dataDir'>, logger: Logger): Mailer {
  return config.mail.smtp
    ? new SmtpMailer(config.mail.smtp, config.mail.from)
    : new OutboxMailer(join(config.dataDir, 'mail'), config.mail.from, logger);
}
