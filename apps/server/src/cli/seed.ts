import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConfigError, loadConfig } from '../config.ts';
import { attachOrStartEmbedded } from '../platform/db/embedded.ts';
import { seedDatabase } from '../platform/db/seed/seed.ts';
import { createLogger } from '../platform/observability/logger.ts';
import { createPasswordHasher } from '../platform/security/passwords.ts';
import { prepareDatabase } from '../server.ts';

const DEFAULT_PASSWORD = 'kith seed password';

const USAGE = `usage: npm run seed -- [--users N] [--friends F] [--posts P] [--seed S] [--password PW] [--feed-days D] [--now ISO]
  Fills the database with N users (F friends each on average), P posts over 60 days, comments,
  reactions, feed entries, friend requests and notifications. Every seeded user has the password
  PW (default: "${DEFAULT_PASSWORD}"), hashed once. The same --seed gives the same data, with
  times counted back from now (or from --now: then ids and timestamps are identical too).
  Posts of the last D days (default FEED_INACTIVE_DAYS) are fanned out to the feeds of active friends.
  Uses DATABASE_URL, or the embedded PostgreSQL under DATA_DIR (running or not).`;

class UsageError extends Error {}

function count(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`--${name} must be an integer 0–${max}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let options: {
    users: number;
    friends: number;
    posts: number;
    seed: number;
    password: string;
    feedDays: number | undefined;
    now: Date | undefined;
  };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        users: { type: 'string' },
        friends: { type: 'string' },
        posts: { type: 'string' },
        seed: { type: 'string' },
        password: { type: 'string' },
        'feed-days': { type: 'string' },
        now: { type: 'string' },
      },
      strict: true,
    });
    options = {
      users: count(values.users, 'users', 1_000, 10_000_000),
      friends: count(values.friends, 'friends', 50, 5_000),
      posts: count(values.posts, 'posts', 20_000, 100_000_000),
      seed: count(values.seed, 'seed', 1, 2 ** 31),
      password: values.password ?? DEFAULT_PASSWORD,
      now: values.now === undefined ? undefined : new Date(values.now),
      feedDays:
        values['feed-days'] === undefined ? undefined : count(values['feed-days'], 'feed-days', 0, 3650),
    };
    if (options.users < 2) throw new UsageError('--users must be at least 2');
    if (options.now && Number.isNaN(options.now.getTime()))
      throw new UsageError('--now must be a date, e.g. 2026-01-31T12:00:00Z');
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err)) {
      process.stderr.write(`kith seed: ${err.message}\n${USAGE}\n`);
      return 64; // EX_USAGE
    }
    throw err;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kith seed: cannot start.\n${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const embedded = config.database.url ? undefined : await attachOrStartEmbedded(config.dataDir);
  const databaseUrl = config.database.url ?? embedded!.url;
  const started = performance.now();
  try {
    await prepareDatabase(databaseUrl, config.database.migrateOnStart, logger);
    // argon2id is slow by design: one hash, shared by every seeded user
    const passwordHash = await createPasswordHasher(config.argon2).hash(options.password);
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'kith-seed' });
    await client.connect();
    try {
      process.stdout.write(
        `kith seed: ${options.users} users, ~${options.friends} friends each, ${options.posts} posts (seed ${options.seed})\n`,
      );
      const report = await seedDatabase(
        client,
        {
          users: options.users,
          friends: options.friends,
          posts: options.posts,
          seed: options.seed,
          passwordHash,
          activeDays: config.social.feedInactiveDays,
          ...(options.feedDays === undefined ? {} : { feedDays: options.feedDays }),
          ...(options.now ? { now: options.now } : {}),
        },
        (message) => process.stdout.write(`  ${message}\n`),
      );
      const total = Math.round(performance.now() - started);
      process.stdout.write(
        `kith seed: done in ${(total / 1000).toFixed(1)} s\n` +
          Object.entries(report.counts)
            .map(([table, n]) => `  ${table.padEnd(16)} ${n.toLocaleString('en')}\n`)
            .join('') +
          `  every seeded user's password: "${options.password}" (one argon2id hash, reused)\n` +
          `  try signing in as: ${report.sampleUsernames.join(', ')}\n`,
      );
    } finally {
      await client.end();
    }
    return 0;
  } finally {
    await embedded?.started?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kith seed: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
