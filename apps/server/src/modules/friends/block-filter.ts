import { sql } from 'kysely';

/**
 * A WHERE condition for other modules' queries: the row's author (`authorColumn`, e.g. 'p.author_id')
 * and `viewerId` have not blocked each other. The rule itself is the friends module's SQL function
 * `kith_blocked_with` (migration 0019), which chat_send_message calls too; the planner inlines it,
 * so this is an anti join on equality over index-only scans of the viewer's blocks.
 */
export const notBlockedWith = (viewerId: string, authorColumn: string) =>
  sql<boolean>`NOT EXISTS (
    SELECT 1 FROM kith_blocked_with(${viewerId}) x WHERE x.user_id = ${sql.ref(authorColumn)})`;
