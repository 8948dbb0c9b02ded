import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MIGRATIONS_DIR } from '../platform/db/migrate.ts';

/**
 * Zero-downtime rules for NEW migrations (docs/deploy.md, "Schema changes"): while a release rolls
 * out, the previous one still runs against the new schema, and every table is being written to.
 * A statement that breaks the previous release, rewrites a big table or waits on a lock with no
 * limit is refused. A reviewed exception is written next to the statement:
 *   -- kith:allow <rule> <why>
 *
 *   npm run migration:safety -- [--base <git ref>] [file.sql…]
 * Without files: the migrations added since `--base` (default origin/main).
 */
export interface Problem {
  file: string;
  rule: Rule;
  statement: string;
  message: string;
}

export type Rule =
  | 'not-null-without-default'
  | 'index-not-concurrent'
  | 'drop-or-rename'
  | 'column-type-change'
  | 'constraint-not-valid'
  | 'lock-timeout'
  | 'session-set';

/** Splits SQL into statements, keeping each statement's own comments; quotes and $$ bodies are respected. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === ch && sql[j + 1] !== ch)) j += sql[j] === ch ? 2 : 1;
      i = j + 1;
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? sql.length : end + tag.length;
      } else i++;
    } else if (ch === ';') {
      out.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  out.push(sql.slice(start));
  return out.filter((s) => code(s) !== '');
}

/** The statement without comments, whitespace collapsed, for matching. */
const code = (statement: string) =>
  statement
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

const allowed = (statement: string, rule: Rule) =>
  new RegExp(`--\\s*kith:allow\\s+${rule}\\b`).test(statement);
const ident = String.raw`(?:"[^"]+"|[\w.]+)`;
const unquote = (name: string) =>
  name
    .replace(/"/g, '')
    .replace(/^public\./, '')
    .toLowerCase();

/** Checks one new migration file; tables it creates itself are new and empty, so exempt. */
export function checkMigration(file: string, sql: string): Problem[] {
  const problems: Problem[] = [];
  const statements = splitStatements(sql);
  const created = new Set(
    statements.flatMap((s) => {
      const m = new RegExp(`^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?(${ident})`, 'i').exec(code(s));
      return m ? [unquote(m[1]!)] : [];
    }),
  );
  let lockTimeout = false;
  const report = (statement: string, rule: Rule, message: string) => {
    if (!allowed(statement, rule))
      problems.push({ file, rule, statement: code(statement).slice(0, 160), message });
  };

  for (const statement of statements) {
    const sqlText = code(statement);
    const upper = sqlText.toUpperCase();
    if (/^SET (?!LOCAL\b)/i.test(sqlText))
      report(
        statement,
        'session-set',
        'use SET LOCAL: a session SET outlives the migration on its connection',
      );
    if (/^SET LOCAL LOCK_TIMEOUT\b/i.test(sqlText)) lockTimeout = true;

    const alter = new RegExp(`^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?(${ident})`, 'i').exec(sqlText);
    const table = alter ? unquote(alter[1]!) : undefined;
    const existing = table !== undefined && !created.has(table);
    if (existing) {
      if (!lockTimeout)
        report(
          statement,
          'lock-timeout',
          `ALTER TABLE ${table} takes an ACCESS EXCLUSIVE lock: put SET LOCAL lock_timeout = '5s' before it, so a long-running query makes the migration fail (and be retried) instead of queueing every request behind it`,
        );
      for (const add of upper.matchAll(/ADD (?:COLUMN )?(?:IF NOT EXISTS )?[^,]*/g)) {
        const clause = add[0];
        if (/^ADD (CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK)/.test(clause)) continue;
        if (/\bNOT NULL\b/.test(clause) && !/\bDEFAULT\b/.test(clause))
          report(
            statement,
            'not-null-without-default',
            `a NOT NULL column without DEFAULT fails on ${table}'s existing rows and breaks the previous release's INSERTs: add it nullable (or with a DEFAULT), backfill, then SET NOT NULL via a NOT VALID check`,
          );
      }
      if (/\bDROP (COLUMN|CONSTRAINT)\b|\bRENAME (COLUMN |TO )|\bRENAME [\w"]+ TO\b/.test(upper))
        report(
          statement,
          'drop-or-rename',
          'dropping or renaming breaks the release still running: stop reading it in one release (expand), drop it in a later one (contract) with -- kith:allow drop-or-rename',
        );
      if (/\bALTER (COLUMN )?[\w"]+ (SET DATA )?TYPE\b/.test(upper))
        report(
          statement,
          'column-type-change',
          'changing a column type rewrites the table under an exclusive lock: add a new column, backfill, switch',
        );
      if (/\bADD CONSTRAINT\b.*\b(FOREIGN KEY|CHECK)\b/.test(upper) && !/\bNOT VALID\b/.test(upper))
        report(
          statement,
          'constraint-not-valid',
          'a new FOREIGN KEY or CHECK scans the table under lock: add it NOT VALID, then VALIDATE CONSTRAINT in a later statement',
        );
    }
    const dropTable = new RegExp(`^(DROP TABLE|ALTER TABLE (?:IF EXISTS )?${ident} RENAME TO)`, 'i').exec(
      sqlText,
    );
    if (dropTable && !existing)
      report(statement, 'drop-or-rename', 'dropping or renaming a table breaks the release still running');

    const index = new RegExp(
      `^CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:${ident} )?ON (?:ONLY )?(${ident})`,
      'i',
    ).exec(sqlText);
    if (index && !index[1] && !created.has(unquote(index[2]!)))
      report(
        statement,
        'index-not-concurrent',
        `CREATE INDEX on the existing table ${unquote(index[2]!)} blocks its writes until built: CREATE INDEX CONCURRENTLY, alone in a file marked -- kith:no-transaction`,
      );
    if (/^DROP INDEX (?!CONCURRENTLY)/i.test(sqlText))
      report(
        statement,
        'index-not-concurrent',
        'DROP INDEX blocks the table: DROP INDEX CONCURRENTLY in a -- kith:no-transaction file',
      );
  }
  return problems;
}

/** The migration files added since `base` (git), oldest first. */
export function newMigrations(base: string, dir = MIGRATIONS_DIR): string[] {
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8' }).trim();
  const out = execFileSync(
    'git',
    ['diff', '--name-only', '--diff-filter=A', `${base}...HEAD`, '--', relative(root, dir)],
    { cwd: root, encoding: 'utf8' },
  );
  const committed = out.split('\n').filter((f) => f.endsWith('.sql'));
  const untracked = execFileSync(
    'git',
    ['ls-files', '--others', '--exclude-standard', '--', relative(root, dir)],
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((f) => f.endsWith('.sql'));
  return [...new Set([...committed, ...untracked])].sort().map((f) => join(root, f));
}

function main(argv: string[]): number {
  const baseAt = argv.indexOf('--base');
  const base = baseAt === -1 ? 'origin/main' : argv[baseAt + 1];
  const files = argv.filter((_, i) => baseAt === -1 || (i !== baseAt && i !== baseAt + 1));
  let targets: string[];
  try {
    targets = files.length > 0 ? files : newMigrations(base!);
  } catch (err) {
    process.stderr.write(
      `migration-safety: cannot list new migrations against ${base}: ${(err as Error).message}\n`,
    );
    return 2;
  }
  const problems = targets.flatMap((f) => checkMigration(basename(f), readFileSync(f, 'utf8')));
  for (const p of problems) process.stderr.write(`${p.file}: [${p.rule}] ${p.message}\n    ${p.statement}\n`);
  process.stdout.write(
    `migration-safety: ${targets.length} new migration(s), ${problems.length} problem(s)${targets.length ? `: ${targets.map((t) => basename(t)).join(', ')}` : ''}\n`,
  );
  return problems.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
