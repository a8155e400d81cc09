/**
 * Sort keys that row-level security lets PostgreSQL use as index conditions.
 * Under a policy (202611240800_row_level_security), PostgreSQL evaluates a query's own
 * conditions only after the policy's, unless they are "leakproof" — built from functions
 * marked LEAKPROOF, which cannot reveal a row's values through an error. It cannot then use
 * a non-leakproof condition to bound an index scan: the keyset condition of a deep page
 * became a filter over every earlier row of the user. Three sort keys were not leakproof:
 * - due_at as coalesce(due_at, ±infinity): COALESCE counts as leaky; CASE … IS NULL does not.
 * - priority: enum comparisons are not leakproof. priority_rank (1 low … 3 high) compares
 *   as smallint, which is.
 * - title as lower(title): lower() is not leakproof. title_sort stores it (collation "C",
 *   so it compares by code point) and compares as text, which is.
 * The indexes are rebuilt on the new keys, under the same names. Adding the stored columns
 * rewrites the table once.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE tasks
      ADD COLUMN priority_rank smallint NOT NULL
        GENERATED ALWAYS AS (CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 END) STORED,
      ADD COLUMN title_sort text COLLATE "C" NOT NULL GENERATED ALWAYS AS (lower(title)) STORED
  `.execute(db)
  await sql`DROP INDEX tasks_user_priority_idx, tasks_user_title_idx, tasks_user_due_asc_idx, tasks_user_due_desc_idx`.execute(db)
  await sql`CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority_rank, id)`.execute(db)
  await sql`CREATE INDEX tasks_user_title_idx ON tasks (user_id, title_sort, id)`.execute(db)
  await sql`CREATE INDEX tasks_user_due_asc_idx ON tasks (user_id, (CASE WHEN due_at IS NULL THEN 'infinity'::timestamptz ELSE due_at END), id)`.execute(db)
  await sql`CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, (CASE WHEN due_at IS NULL THEN '-infinity'::timestamptz ELSE due_at END), id)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX tasks_user_priority_idx, tasks_user_title_idx, tasks_user_due_asc_idx, tasks_user_due_desc_idx`.execute(db)
  await sql`ALTER TABLE tasks DROP COLUMN priority_rank, DROP COLUMN title_sort`.execute(db)
  await sql`CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id)`.execute(db)
  await sql`CREATE INDEX tasks_user_title_idx ON tasks (user_id, lower(title) COLLATE "C", id)`.execute(db)
  await sql`CREATE INDEX tasks_user_due_asc_idx ON tasks (user_id, coalesce(due_at, 'infinity'::timestamptz), id)`.execute(db)
  await sql`CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, coalesce(due_at, '-infinity'::timestamptz), id)`.execute(db)
}
