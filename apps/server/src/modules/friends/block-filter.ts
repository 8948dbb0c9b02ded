import { sql } from 'kysely';

/**
 * A WHERE condition for other modules' queries: the row's author (`authorColumn`, e.g. 'p.author_id')
 * and `viewerId` have not blocked each other. The blocks table stays the friends module's; its
 * primary key and blocks_blocked_idx serve both directions.
 */
export const notBlockedWith = (viewerId: string, authorColumn: string) =>
  sql<boolean>`NOT EXISTS (
    SELECT 1 FROM blocks b
     WHERE (b.blocker_id = ${viewerId} AND b.blocked_id = ${sql.ref(authorColumn)})
        OR (b.blocker_id = ${sql.ref(authorColumn)} AND b.blocked_id = ${viewerId}))`;
