/**
 * Recurring tasks (API.md part two, "Recurrence").
 * - tasks.recurrence_rule: the RRULE value as sent (checked by the service against the
 *   API's subset); a rule needs a due to start from (CHECK, beside the service's 400).
 * - tasks.recurrence_start_at / recurrence_start_date: the rule's start (DTSTART), the due it
 *   was set with; COUNT and UNTIL count from it. Not part of the task's representation.
 * - task_completions: one row per completed occurrence, `occurrence_at` (timed) or
 *   `occurrence_date` (all-day); listed per task newest completed_at first, then id, by its
 *   index. It goes with its task (a purge), and is a user table: row-level security and
 *   todo_app's grants like the others.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE tasks
      ADD COLUMN recurrence_rule text CHECK (length(recurrence_rule) BETWEEN 1 AND 500),
      ADD COLUMN recurrence_start_at timestamptz(3),
      ADD COLUMN recurrence_start_date date,
      ADD CONSTRAINT tasks_rule_has_due CHECK (recurrence_rule IS NULL OR due_at IS NOT NULL OR due_date IS NOT NULL)
  `.execute(db)
  await sql`
    CREATE TABLE task_completions (
      user_id text NOT NULL,
      id uuid NOT NULL DEFAULT gen_random_uuid(),
      task_id uuid NOT NULL,
      occurrence_at timestamptz(3),
      occurrence_date date,
      completed_at timestamptz(3) NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, id),
      FOREIGN KEY (user_id, task_id) REFERENCES tasks (user_id, id) ON DELETE CASCADE,
      CHECK ((occurrence_at IS NULL) <> (occurrence_date IS NULL))
    )
  `.execute(db)
  await sql`CREATE INDEX task_completions_listing_idx ON task_completions (user_id, task_id, completed_at, id)`.execute(db)
  await sql`ALTER TABLE task_completions ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`
    CREATE POLICY task_completions_of_current_user ON task_completions
      USING (user_id = current_setting('app.user_id', true))
      WITH CHECK (user_id = current_setting('app.user_id', true))
  `.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON task_completions TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE task_completions`.execute(db)
  await sql`ALTER TABLE tasks DROP CONSTRAINT tasks_rule_has_due, DROP COLUMN recurrence_start_date, DROP COLUMN recurrence_start_at, DROP COLUMN recurrence_rule`.execute(db)
}
