import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_DIR } from './helpers/process.ts';

// The module rule (design.md): a module writes only its own tables; a repository that reads another
// module's tables in a join says so in its header. Checked statically over every *.repository.ts.

/** Which module owns each table (the module folder's name; platform parts by their own name). */
const OWNER: Record<string, string> = {
  users: 'users',
  sessions: 'auth',
  account_tokens: 'auth',
  two_factor: 'auth',
  recovery_codes: 'auth',
  passkeys: 'auth',
  auth_challenges: 'auth',
  known_devices: 'auth',
  refresh_tokens: 'auth',
  audit_log: 'audit',
  friendships: 'friends',
  friend_requests: 'friends',
  blocks: 'friends',
  posts: 'posts',
  post_tags: 'posts',
  comments: 'posts',
  reactions: 'posts',
  trending_tags: 'posts',
  feed_entries: 'feed',
  collections: 'collections',
  collection_items: 'collections',
  notifications: 'notifications',
  data_exports: 'account',
  conversations: 'chat',
  conversation_members: 'chat',
  messages: 'chat',
  media: 'media',
  post_media: 'media',
  message_media: 'media',
  realtime_tickets: 'realtime',
  feature_flags: 'flags',
  idempotency_keys: 'idempotency',
  backup_runs: 'backup',
  report_cases: 'reports',
  reports: 'reports',
  user_mutes: 'mutes',
  hashtag_mutes: 'mutes',
  conversation_mutes: 'mutes',
  push_subscriptions: 'push',
};

const SRC = join(SERVER_DIR, 'src');

function repositories(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return repositories(path);
    return entry.name.endsWith('.repository.ts') ? [path] : [];
  });
}

/** Tables a source text writes: Kysely's insertInto/updateTable/deleteFrom and raw SQL. */
function writtenTables(source: string): Set<string> {
  const found = new Set<string>();
  for (const m of source.matchAll(/\b(?:insertInto|updateTable|deleteFrom)\(\s*['"`]([a-z_]+)/g))
    found.add(m[1]!);
  for (const m of source.matchAll(
    /\b(?:INSERT INTO|UPDATE|DELETE FROM|MERGE INTO|TRUNCATE)[ \t]+([a-z_]+)/g,
  )) {
    found.add(m[1]!);
  }
  return found;
}

/** Tables a source text reads: Kysely's selectFrom and joins, and raw SQL's FROM and JOIN. */
function readTables(source: string): Set<string> {
  const found = new Set<string>();
  for (const m of source.matchAll(
    /\b(?:selectFrom|innerJoin|leftJoin|rightJoin|fullJoin)\(\s*['"`]([a-z_]+)/g,
  )) {
    found.add(m[1]!);
  }
  for (const m of source.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)/g)) found.add(m[1]!);
  return new Set([...found].filter((table) => table in OWNER));
}

/** The repository's header: the doc comment right before its exported class. */
function header(source: string): string {
  return /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)\s*export class/.exec(source)?.[1] ?? '';
}

const moduleOf = (path: string) => basename(dirname(path));
const files = repositories();

describe('the module rule', () => {
  it('finds the repositories and knows every table they write', () => {
    expect(files.length).toBeGreaterThan(10);
    for (const path of files) {
      for (const table of writtenTables(readFileSync(path, 'utf8'))) {
        expect(OWNER, `${relative(SERVER_DIR, path)} writes ${table}: add it to OWNER`).toHaveProperty(table);
      }
    }
  });

  it.each(files.map((path) => [relative(SERVER_DIR, path), path]))(
    '%s writes only its own module’s tables',
    (_name, path) => {
      const foreign = [...writtenTables(readFileSync(path, 'utf8'))].filter(
        (table) => OWNER[table] !== moduleOf(path),
      );
      expect(foreign, 'change them through the owning module’s service').toEqual([]);
    },
  );

  it.each(files.map((path) => [relative(SERVER_DIR, path), path]))(
    '%s names in its header every other module’s table it reads',
    (_name, path) => {
      const source = readFileSync(path, 'utf8');
      const doc = header(source);
      const unnamed = [...readTables(source)].filter(
        (table) => OWNER[table] !== moduleOf(path) && !new RegExp(`\\b${table}\\b`).test(doc),
      );
      expect(unnamed).toEqual([]);
    },
  );

  it('sees through the patterns it relies on', () => {
    const sample = `
      db.insertInto('users').values(x); trx.updateTable( 'posts' ); db.deleteFrom("blocks");
      sql\`INSERT INTO feed_entries (a) SELECT 1 FROM friendships f JOIN users u ON true\`;
      sql\`UPDATE conversation_members SET x = 1 ... FOR UPDATE\`; db.selectFrom('media as m').innerJoin('post_media as pm')`;
    expect([...writtenTables(sample)].sort()).toEqual(
      ['blocks', 'conversation_members', 'feed_entries', 'posts', 'users'].sort(),
    );
    expect([...readTables(sample)].sort()).toEqual(['friendships', 'media', 'post_media', 'users'].sort());
  });
});
