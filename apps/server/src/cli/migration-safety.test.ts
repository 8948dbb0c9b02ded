import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../platform/db/migrate.ts';
import { checkMigration, splitStatements } from './migration-safety.ts';

const rules = (sql: string) => checkMigration('0099_new.sql', sql).map((p) => p.rule);
const TIMEOUT = "SET LOCAL lock_timeout = '5s';\n";

describe('migration safety rules', () => {
  it('refuses a NOT NULL column without a default on an existing table', () => {
    expect(rules(`${TIMEOUT}ALTER TABLE posts ADD COLUMN score integer NOT NULL;`)).toEqual([
      'not-null-without-default',
    ]);
    expect(rules(`${TIMEOUT}ALTER TABLE posts ADD COLUMN score integer NOT NULL DEFAULT 0;`)).toEqual([]);
    expect(rules(`${TIMEOUT}ALTER TABLE posts ADD COLUMN score integer;`)).toEqual([]);
    // a table created in the same file is empty: anything goes
    expect(rules('CREATE TABLE scores (id int); ALTER TABLE scores ADD COLUMN v int NOT NULL;')).toEqual([]);
  });

  it('refuses CREATE/DROP INDEX without CONCURRENTLY on an existing table', () => {
    expect(rules('CREATE INDEX posts_score ON posts (score);')).toEqual(['index-not-concurrent']);
    expect(rules('CREATE UNIQUE INDEX IF NOT EXISTS posts_x ON public.posts (x);')).toEqual([
      'index-not-concurrent',
    ]);
    expect(rules('-- kith:no-transaction\nCREATE INDEX CONCURRENTLY posts_score ON posts (score);')).toEqual(
      [],
    );
    expect(rules('CREATE TABLE t (id int); CREATE INDEX t_id ON t (id);')).toEqual([]);
    expect(rules('DROP INDEX posts_score;')).toEqual(['index-not-concurrent']);
  });

  it('refuses dropping or renaming a column or table unless the contract step is marked', () => {
    expect(rules(`${TIMEOUT}ALTER TABLE users DROP COLUMN bio;`)).toEqual(['drop-or-rename']);
    expect(rules(`${TIMEOUT}ALTER TABLE users RENAME COLUMN bio TO about;`)).toEqual(['drop-or-rename']);
    expect(rules('DROP TABLE old_things;')).toEqual(['drop-or-rename']);
    expect(
      rules(
        `${TIMEOUT}-- kith:allow drop-or-rename unread since 0.4 (expand in 0031)\nALTER TABLE users DROP COLUMN bio;`,
      ),
    ).toEqual([]);
  });

  it('requires lock_timeout before an ALTER TABLE on an existing table, and only SET LOCAL', () => {
    expect(rules('ALTER TABLE posts ADD COLUMN score integer;')).toEqual(['lock-timeout']);
    expect(rules("SET lock_timeout = '5s'; ALTER TABLE posts ADD COLUMN score integer;")).toEqual([
      'session-set',
      'lock-timeout',
    ]);
  });

  it('refuses type changes and constraints that scan the table under lock', () => {
    expect(rules(`${TIMEOUT}ALTER TABLE posts ALTER COLUMN body TYPE varchar(100);`)).toEqual([
      'column-type-change',
    ]);
    expect(
      rules(`${TIMEOUT}ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES users (id);`),
    ).toEqual(['constraint-not-valid']);
    expect(
      rules(`${TIMEOUT}ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES users (id) NOT VALID;`),
    ).toEqual([]);
  });

  it('splits statements around strings, comments and dollar-quoted bodies', () => {
    const sql = `CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; -- a; b\nSELECT 'x;y'; /* ; */ SELECT $t$;$t$;`;
    const parts = splitStatements(sql);
    expect(parts).toHaveLength(3);
    expect(parts[0]).toContain('$$ SELECT 1; $$');
    expect(parts[1]).toContain("SELECT 'x;y'");
    expect(parts[2]).toContain('SELECT $t$;$t$');
  });

  it('accepts every statement shape the existing migrations use when their tables are new', () => {
    // sanity check of the parser on real files: each parses into statements without throwing
    for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')))
      expect(splitStatements(readFileSync(join(MIGRATIONS_DIR, file), 'utf8')).length).toBeGreaterThan(0);
  });
});

describe('npm run migration:safety', () => {
  const cli = join(dirname(fileURLToPath(import.meta.url)), 'migration-safety.ts');
  const run = (...files: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli, ...files], { encoding: 'utf8' });

  it('exits 1 and names the rule for an unsafe new migration, 0 for a safe one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-mig-safety-'));
    const unsafe = join(dir, '0099_unsafe.sql');
    writeFileSync(unsafe, 'CREATE INDEX posts_score ON posts (score);\n');
    const safe = join(dir, '0100_safe.sql');
    writeFileSync(safe, `${TIMEOUT}ALTER TABLE posts ADD COLUMN score integer;\n`);
    const bad = run(unsafe);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('0099_unsafe.sql: [index-not-concurrent]');
    const good = run(safe);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toContain('1 new migration(s), 0 problem(s)');
  });
});
