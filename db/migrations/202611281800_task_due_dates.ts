/**
 * All-day due dates and task time zones (API.md part two, "Time zones and due dates").
 * - tasks.due_date (all-day, exclusive with due_at) and tasks.time_zone (IANA name, null:
 *   the user's zone follows).
 * - tasks.due_effective: the effective due instant, the one listings filter and sort by:
 *   due_at, or for a due_date the start of that day in the effective zone. Kept by a row
 *   trigger whenever a task's due or zone is written; when a user's zone changes, the
 *   service recomputes the tasks that follow it in the same transaction (recomputeFollowingDue
 *   in src/repositories/tasks.ts), through the partial index below, in keyset batches.
 *   The trigger reads the user's zone after the statement has locked the user's change
 *   counter (202611281200_change_record), and a zone change takes that lock too, so a
 *   task write either finishes before the zone changes (and the recompute after it sees the
 *   task) or reads the new zone.
 * - The due listing indexes move from due_at to due_effective (still partial: not in trash).
 * Zone names are PostgreSQL's too (`AT TIME ZONE`): the service accepts only names both its
 * runtime and the database know.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

const DUE_INDEXES = (column: string): Array<[string, ReturnType<typeof sql>]> => [
  ['tasks_user_due_asc_idx', sql`(user_id, (CASE WHEN ${sql.ref(column)} IS NULL THEN 'infinity'::timestamptz ELSE ${sql.ref(column)} END), id)`],
  ['tasks_user_due_desc_idx', sql`(user_id, (CASE WHEN ${sql.ref(column)} IS NULL THEN '-infinity'::timestamptz ELSE ${sql.ref(column)} END), id)`]
]

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const users = sql.id((rows[0] as { schema: string }).schema, 'users')
  await sql`
    ALTER TABLE tasks
      ADD COLUMN due_date date,
      ADD COLUMN time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64),
      ADD COLUMN due_effective timestamptz(3),
      ADD CONSTRAINT tasks_one_due CHECK (due_at IS NULL OR due_date IS NULL)
  `.execute(db)
  await sql`
    CREATE FUNCTION task_due_effective() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      zone text := NEW.time_zone;
    BEGIN
      IF NEW.due_date IS NULL THEN
        NEW.due_effective := NEW.due_at;
        -- A zone PostgreSQL does not know fails here (22023), not later when a due_date comes.
        IF zone IS NOT NULL THEN
          PERFORM now() AT TIME ZONE zone;
        END IF;
        RETURN NEW;
      END IF;
      IF zone IS NULL THEN
        SELECT u.time_zone INTO zone FROM ${users} u WHERE u.id = NEW.user_id;
      END IF;
      NEW.due_effective := NEW.due_date::timestamp AT TIME ZONE coalesce(zone, 'UTC');
      RETURN NEW;
    END
    $$
  `.execute(db)
  // Only when there is something to compute or check: an insert without due or zone skips the call.
  await sql`
    CREATE TRIGGER tasks_due_effective BEFORE INSERT OR UPDATE OF due_at, due_date, time_zone ON tasks
    FOR EACH ROW WHEN (NEW.due_date IS NOT NULL OR NEW.time_zone IS NOT NULL OR NEW.due_at IS DISTINCT FROM NEW.due_effective)
    EXECUTE FUNCTION task_due_effective()
  `.execute(db)
  // A plain column write: no trigger fires (the change record's UPDATE triggers see no new version).
  await sql`UPDATE tasks SET due_effective = due_at WHERE due_at IS NOT NULL`.execute(db)
  for (const [name, columns] of DUE_INDEXES('due_effective')) {
    await sql`DROP INDEX ${sql.id(name)}`.execute(db)
    await sql`CREATE INDEX ${sql.id(name)} ON tasks ${columns} WHERE deleted_at IS NULL`.execute(db)
  }
  // The tasks that follow their user's zone: what a zone change recomputes, in id order.
  await sql`CREATE INDEX tasks_user_following_zone_idx ON tasks (user_id, id) WHERE due_date IS NOT NULL AND time_zone IS NULL`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX tasks_user_following_zone_idx`.execute(db)
  for (const [name, columns] of DUE_INDEXES('due_at')) {
    await sql`DROP INDEX ${sql.id(name)}`.execute(db)
    await sql`CREATE INDEX ${sql.id(name)} ON tasks ${columns} WHERE deleted_at IS NULL`.execute(db)
  }
  await sql`DROP TRIGGER tasks_due_effective ON tasks`.execute(db)
  await sql`DROP FUNCTION task_due_effective()`.execute(db)
  await sql`ALTER TABLE tasks DROP CONSTRAINT tasks_one_due, DROP COLUMN due_effective, DROP COLUMN time_zone, DROP COLUMN due_date`.execute(db)
}
