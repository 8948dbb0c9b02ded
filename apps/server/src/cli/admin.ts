import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { AuditService } from '../modules/audit/audit.service.ts';
import { UsersService } from '../modules/users/users.service.ts';
import { attachOrStartEmbedded } from '../platform/db/embedded.ts';
import { AppError } from '../platform/errors.ts';
import { createLogger } from '../platform/observability/logger.ts';
import { createPlatform } from '../platform/platform.ts';
import {
  createPasswordHasher,
  isCommonPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../platform/security/passwords.ts';
import { prepareDatabase } from '../server.ts';

const USAGE = `usage: npm run admin -- create-admin --username NAME --email ADDRESS [--password-file FILE]
  The password is read from FILE, or from standard input when --password-file is not given.
  Uses DATABASE_URL, or the embedded PostgreSQL under DATA_DIR (running or not).`;

class UsageError extends Error {}

async function readPassword(file: string | undefined): Promise<string> {
  let text: string;
  if (file) {
    text = readFileSync(file, 'utf8');
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  const password = text.replace(/\r?\n$/, '');
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new UsageError(`the password must be ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters`);
  }
  if (isCommonPassword(password)) throw new UsageError('this password is too common; choose another');
  return password;
}

async function createAdmin(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      username: { type: 'string' },
      email: { type: 'string' },
      'password-file': { type: 'string' },
    },
    strict: true,
  });
  const username = values.username?.toLowerCase();
  if (!username || !/^[a-z0-9_]{3,30}$/.test(username)) {
    throw new UsageError('--username must be 3–30 of a–z, 0–9 and _');
  }
  if (!values.email || values.email.length > 254 || !/^[^@\s]+@[^@\s]+$/.test(values.email)) {
    throw new UsageError('--email must be an e-mail address');
  }
  const password = await readPassword(values['password-file']);

  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const embedded = config.database.url ? undefined : await attachOrStartEmbedded(config.dataDir);
  const databaseUrl = config.database.url ?? embedded!.url;
  try {
    await prepareDatabase(databaseUrl, config.database.migrateOnStart, logger);
    const platform = await createPlatform({ config, logger, databaseUrl });
    try {
      const passwordHash = await createPasswordHasher(config.argon2).hash(password);
      const users = new UsersService(platform.db.primary);
      const audit = new AuditService(platform.db.primary);
      const user = await platform.db.primary.transaction().execute(async (trx) => {
        const created = await users.create(
          { username, email: values.email!, passwordHash, role: 'admin' },
          trx,
        );
        await audit.record(
          {
            action: 'admin.create_admin',
            actorId: null,
            target: { type: 'user', id: created.id },
            meta: { ip: '', userAgent: 'kith-admin-cli' },
          },
          trx,
        );
        return created;
      });
      process.stdout.write(`${JSON.stringify({ created: 'admin', id: user.id, username: user.username })}\n`);
    } finally {
      await platform.close();
    }
  } finally {
    await embedded?.started?.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'create-admin') {
      await createAdmin(rest);
      return 0;
    }
    throw new UsageError(command ? `unknown command: ${command}` : 'no command given');
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err)) {
      process.stderr.write(`kith admin: ${err.message}\n${USAGE}\n`);
      return 64; // EX_USAGE
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`kith admin: cannot start.\n${err.message}\n`);
      return 78; // EX_CONFIG
    }
    if (err instanceof AppError) {
      process.stderr.write(`kith admin: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kith admin: failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
