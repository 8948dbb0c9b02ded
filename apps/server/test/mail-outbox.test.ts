import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { buildTestApp } from './helpers/app.ts';
import { runJobs } from './helpers/jobs.ts';
import { startSmtp } from './helpers/mail.ts';

const smtp = await startSmtp();

describe('mail through SMTP', () => {
  it('a queued message is sent by the job only once its transaction commits, with text and HTML parts', async () => {
    const t = await buildTestApp(smtp.env);
    const { mail } = t.services;
    // rolled back: the job never existed, nothing is sent
    await expect(
      t.platform.db.primary.transaction().execute(async (trx) => {
        await mail.queue(trx, 'password_changed', 'rolled@example.com', { username: 'rolled' });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await t.platform.db.primary.transaction().execute(async (trx) => {
      await mail.queue(trx, 'email_verify', 'ann@example.com', {
        username: '<script>alert(1)</script>',
        link: 'http://localhost:8080/verify-email?token=abc&x="y"',
      });
    });
    await runJobs(t);
    const received = await smtp.nth(1);
    expect(received.to).toEqual(['ann@example.com']);
    expect(received.parsed.subject).toBe('Confirm your e-mail address');
    expect(received.parsed.from?.text).toContain('no-reply@kith.test');
    expect(received.parsed.text).toContain('Hello <script>alert(1)</script>,');
    expect(received.parsed.text).toContain('http://localhost:8080/verify-email?token=abc');
    const html = received.parsed.html as string;
    expect(html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(html).not.toContain('<script>');
    expect(html).toContain('href="http://localhost:8080/verify-email?token=abc&amp;x=&quot;y&quot;"');
    expect(received.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(smtp.received).toHaveLength(1);
    const metrics = await t.platform.metrics.registry.getSingleMetricAsString('kith_mail_total');
    expect(metrics).toContain('kith_mail_total{kind="email_verify",outcome="sent"} 1');
  });

  it('a failed send is counted and thrown, so the worker retries it', async () => {
    const t = await buildTestApp({ ...smtp.env, SMTP_PORT: '1' });
    await expect(
      t.services.mail.send({ kind: 'password_changed', to: 'x@example.com', data: { username: 'x' } }),
    ).rejects.toThrow();
    const metrics = await t.platform.metrics.registry.getSingleMetricAsString('kith_mail_total');
    expect(metrics).toContain('kith_mail_total{kind="password_changed",outcome="failed"} 1');
  });
});

describe('the embedded outbox', () => {
  it('writes each message as a parseable .eml under DATA_DIR/mail', async () => {
    const t = await buildTestApp();
    await t.platform.db.primary.transaction().execute(async (trx) => {
      await t.services.mail.queue(trx, 'password_reset', 'bob@example.com', {
        username: 'bob',
        link: 'http://localhost:8080/reset-password?token=tok_123',
      });
    });
    await runJobs(t);
    const dir = join(t.platform.config.dataDir, 'mail');
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f-]{36}\.eml$/);
    const raw = await readFile(join(dir, files[0]!));
    expect(raw.toString('latin1')).toMatch(/\r\nMessage-ID: </i);
    const parsed = await simpleParser(raw);
    expect(parsed.to && !Array.isArray(parsed.to) && parsed.to.text).toBe('bob@example.com');
    expect(parsed.subject).toBe('Reset your Kith password');
    expect(parsed.text).toContain('http://localhost:8080/reset-password?token=tok_123');
    expect(parsed.html).toContain('href="http://localhost:8080/reset-password?token=tok_123"');
  });
});

describe('mail configuration', () => {
  it('reads SMTP_PASSWORD from a file, and refuses half-given credentials and a bad PUBLIC_URL', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'kith-smtp-')), 'password');
    await writeFile(file, 's3cret\n');
    const config = loadConfig({
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '465',
      SMTP_SECURE: 'true',
      SMTP_USER: 'kith',
      SMTP_PASSWORD_FILE: file,
      PUBLIC_URL: 'https://kith.example/',
    });
    expect(config.mail.smtp).toEqual({
      host: 'smtp.example.com',
      port: 465,
      secure: true,
      user: 'kith',
      password: 's3cret',
    });
    expect(config.publicUrl).toBe('https://kith.example');
    expect(loadConfig({}).mail.smtp).toBeUndefined();
    expect(loadConfig({}).publicUrl).toBe('http://localhost:8080');
    let error: unknown;
    try {
      loadConfig({ SMTP_USER: 'kith', PUBLIC_URL: 'javascript:alert(1)' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('SMTP_USER and SMTP_PASSWORD: give both or neither');
    expect(message).toContain('SMTP_HOST: required when SMTP_USER is set');
    expect(message).toContain('PUBLIC_URL: must be an http(s) URL');
    expect(message).not.toContain('s3cret');
  });
});
