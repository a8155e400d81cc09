/**
 * The trash (API.md part two, "Trash"): a deleted task stays, with `deleted_at`, until it is
 * restored or purged.
 * - The listing indexes are rebuilt as partial indexes over the tasks not in the trash, so a
 *   page is still one index range scan however full the trash is (`deleted_at IS NULL` is
 *   not a function call, so row-level security lets it decide the index).
 * - The trash has its own index, in its listing order, and the purge one on `deleted_at`.
 * - purge_expired_trash(retention, batch) deletes at most `batch` tasks trashed longer ago
 *   than `retention`, oldest first, skipping rows another transaction holds, and returns how
 *   many; -1 when another purge holds its lock (one purge at a time across every process;
 *   the lock ends with the call's transaction, so no lock outlives a batch). It runs for the
 *   service's purge job, which names no user: so it is SECURITY DEFINER (the tables' owner),
 *   names the table with its schema, resolves everything else in pg_catalog only (pg_temp
 *   last, so no caller's temporary table can stand in), and only todo_app may call it.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

const LISTING_INDEXES = [
  ['tasks_user_created_idx', sql`(user_id, created_at, id)`],
  ['tasks_user_updated_idx', sql`(user_id, updated_at, id)`],
  ['tasks_user_priority_idx', sql`(user_id, priority_rank, id)`],
  ['tasks_user_title_idx', sql`(user_id, title_sort, id)`],
  ['tasks_user_due_asc_idx', sql`(user_id, (CASE WHEN due_at IS NULL THEN 'infinity'::timestamptz ELSE due_at END), id)`],
  ['tasks_user_due_desc_idx', sql`(user_id, (CASE WHEN due_at IS NULL THEN '-infinity'::timestamptz ELSE due_at END), id)`]
] as const

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE tasks ADD COLUMN deleted_at timestamptz(3)`.execute(db)
  for (const [name, columns] of LISTING_INDEXES) {
    await sql`DROP INDEX ${sql.id(name)}`.execute(db)
    await sql`CREATE INDEX ${sql.id(name)} ON tasks ${columns} WHERE deleted_at IS NULL`.execute(db)
  }
  await sql`CREATE INDEX tasks_user_trash_idx ON tasks (user_id, deleted_at, id) WHERE deleted_at IS NOT NULL`.execute(db)
  await sql`CREATE INDEX tasks_trash_expiry_idx ON tasks (deleted_at) WHERE deleted_at IS NOT NULL`.execute(db)
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const tasks = sql.id((rows[0] as { schema: string }).schema, 'tasks')
  await sql`
    CREATE FUNCTION purge_expired_trash(retention interval, batch integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
      purged integer;
    BEGIN
      -- One purge at a time: the key is this function's own (hashtext of its name).
      IF NOT pg_try_advisory_xact_lock(hashtext('purge_expired_trash')) THEN
        RETURN -1;
      END IF;
      WITH doomed AS (
        SELECT user_id, id FROM ${tasks}
        WHERE deleted_at IS NOT NULL AND deleted_at < now() - retention
        ORDER BY deleted_at
        LIMIT batch
        FOR UPDATE SKIP LOCKED
      ), gone AS (
        DELETE FROM ${tasks} t USING doomed d WHERE t.user_id = d.user_id AND t.id = d.id RETURNING 1
      )
      SELECT count(*)::integer INTO purged FROM gone;
      RETURN purged;
    END
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION purge_expired_trash(interval, integer) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION purge_expired_trash(interval, integer) TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION purge_expired_trash(interval, integer)`.execute(db)
  await sql`DROP INDEX tasks_trash_expiry_idx, tasks_user_trash_idx`.execute(db)
  // Tasks in the trash would reappear in every listing: they go, as a delete did before.
  await sql`DELETE FROM tasks WHERE deleted_at IS NOT NULL`.execute(db)
  for (const [name, columns] of LISTING_INDEXES) {
    await sql`DROP INDEX ${sql.id(name)}`.execute(db)
    await sql`CREATE INDEX ${sql.id(name)} ON tasks ${columns}`.execute(db)
  }
  await sql`ALTER TABLE tasks DROP COLUMN deleted_at`.execute(db)
}
