import type pg from 'pg';

interface IndexDefinition {
  table: string;
  index: string;
  indexDef: string;
  constraint: string | null;
  constraintDef: string | null;
}

/**
 * Drops the indexes (and primary-key/unique constraints no foreign key depends on) of `tables`
 * and returns a function that creates them again from their own definitions. Loading millions of
 * rows and then building each index in one sort is several times faster than updating the btrees
 * row by row. Must run inside a transaction: DDL is transactional, so a failed load rolls the
 * indexes back with it and the schema is never left without them.
 */
export async function deferIndexes(
  client: pg.ClientBase,
  tables: readonly string[],
): Promise<() => Promise<void>> {
  const { rows } = await client.query<IndexDefinition>(
    `SELECT t.relname AS "table", ix.relname AS "index", pg_get_indexdef(i.indexrelid) AS "indexDef",
            c.conname AS "constraint", pg_get_constraintdef(c.oid) AS "constraintDef"
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_class ix ON ix.oid = i.indexrelid
       LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = t.oid AND c.contype IN ('p', 'u')
      WHERE t.relnamespace = current_schema()::regnamespace
        AND t.relname = ANY ($1)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint fk WHERE fk.contype = 'f' AND fk.conindid = i.indexrelid)
      ORDER BY t.relname, ix.relname`,
    [tables],
  );
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  for (const r of rows) {
    await client.query(
      r.constraint
        ? `ALTER TABLE ${quote(r.table)} DROP CONSTRAINT ${quote(r.constraint)}`
        : `DROP INDEX ${quote(r.index)}`,
    );
  }
  return async () => {
    for (const r of rows) {
      await client.query(
        r.constraint
          ? `ALTER TABLE ${quote(r.table)} ADD CONSTRAINT ${quote(r.constraint)} ${r.constraintDef}`
          : r.indexDef,
      );
    }
  };
}
