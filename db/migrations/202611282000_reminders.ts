/**
 * Reminders (API.md part two, "Reminders").
 * - tasks.reminders: the task's reminders as answered (`[{ "at": … } | { "before_due": … }]`).
 * - Each armed reminder is a job of the queue (`fire_reminder`), keyed by its task and its
 *   place in the list, due at its time: an `at` reminder at that instant, a `before_due` one
 *   at the effective due instant minus the duration (PostgreSQL reads ISO 8601 durations as
 *   intervals). A row trigger re-arms a task's reminders whenever its reminders, its due, its
 *   completion or its trash state change, in the changing transaction: a job key replaced
 *   moves the job, one removed cancels it, so a change and what it cancels commit together.
 *   A reminder whose time has passed, or of a completed or trashed task, is not armed; one
 *   whose time has come but whose job has not run yet keeps its job while its time stays.
 *   A duration is elapsed time (`P1D` is 24 hours before the due instant).
 * - reminder_firings: one row per reminder and time fired, so a job run twice (its process
 *   died after firing) fires once; the firing and its `reminder.fired` event commit together.
 * arm_task_reminders is SECURITY DEFINER (the queue's tables are the owner's), like
 * schedule_webhook_delivery, and callable only by the trigger's roles.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema

  await sql`ALTER TABLE tasks ADD COLUMN reminders jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(reminders) = 'array' AND jsonb_array_length(reminders) <= 5)`.execute(db)
  await sql`
    CREATE TABLE reminder_firings (
      user_id text NOT NULL,
      task_id uuid NOT NULL,
      reminder integer NOT NULL,
      scheduled_for timestamptz(3) NOT NULL,
      fired_at timestamptz(3) NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, task_id, reminder, scheduled_for),
      FOREIGN KEY (user_id, task_id) REFERENCES tasks (user_id, id) ON DELETE CASCADE
    )
  `.execute(db)
  await sql`ALTER TABLE reminder_firings ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`
    CREATE POLICY reminder_firings_of_current_user ON reminder_firings
      USING (user_id = current_setting('app.user_id', true))
      WITH CHECK (user_id = current_setting('app.user_id', true))
  `.execute(db)
  await sql`GRANT SELECT, INSERT ON reminder_firings TO todo_app`.execute(db)

  // The time a reminder is due for a task whose effective due is `due` (null: none).
  await sql`
    CREATE FUNCTION reminder_time(reminder jsonb, due timestamptz) RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
      SELECT CASE
        WHEN reminder ? 'at' THEN (reminder->>'at')::timestamptz
        WHEN reminder ? 'before_due' AND due IS NOT NULL THEN due - (reminder->>'before_due')::interval
      END
    $$
  `.execute(db)

  await sql`
    CREATE FUNCTION arm_task_reminders(owner text, task uuid, reminders jsonb, due timestamptz, armed boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
      slot integer;
      due_for timestamptz;
      slot_key text;
    BEGIN
      FOR slot IN 0..4 LOOP
        slot_key := 'reminder:' || task || ':' || slot || ':' || owner;
        due_for := CASE WHEN armed AND slot < jsonb_array_length(reminders)
          THEN ${sql.id(schema, 'reminder_time')}(reminders->slot, due) END;
        IF due_for IS NOT NULL AND due_for <= now() AND EXISTS (
          SELECT FROM graphile_worker.jobs j WHERE j.key = slot_key AND j.run_at = due_for
        ) THEN
          -- Due, unchanged, and not yet run (the queue polls): left to fire.
          CONTINUE;
        ELSIF due_for IS NOT NULL AND due_for > now() THEN
          PERFORM graphile_worker.add_job(
            'fire_reminder',
            json_build_object('user_id', owner, 'task_id', task, 'reminder', slot, 'scheduled_for', due_for),
            run_at := due_for,
            max_attempts := 25,
            job_key := slot_key,
            job_key_mode := 'replace'
          );
        ELSE
          PERFORM graphile_worker.remove_job(slot_key);
        END IF;
      END LOOP;
    END
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION arm_task_reminders(text, uuid, jsonb, timestamptz, boolean) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION arm_task_reminders(text, uuid, jsonb, timestamptz, boolean) TO todo_app`.execute(db)

  await sql`
    CREATE FUNCTION rearm_task_reminders() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM ${sql.id(schema, 'arm_task_reminders')}(
        NEW.user_id, NEW.id, NEW.reminders, NEW.due_effective, NOT NEW.completed AND NEW.deleted_at IS NULL
      );
      RETURN NULL;
    END
    $$
  `.execute(db)
  // Only tasks that have or had reminders pay for it. `UPDATE OF` names the columns a
  // statement sets, not those a BEFORE trigger changes: the due's columns stand for
  // due_effective, which tasks_due_effective computes from them (and a zone change sets).
  await sql`
    CREATE TRIGGER tasks_arm_reminders AFTER INSERT ON tasks
    FOR EACH ROW WHEN (NEW.reminders <> '[]'::jsonb)
    EXECUTE FUNCTION rearm_task_reminders()
  `.execute(db)
  await sql`
    CREATE TRIGGER tasks_rearm_reminders AFTER UPDATE OF reminders, due_at, due_date, time_zone, due_effective, completed, deleted_at ON tasks
    FOR EACH ROW WHEN ((NEW.reminders <> '[]'::jsonb OR OLD.reminders <> '[]'::jsonb) AND (
      NEW.reminders IS DISTINCT FROM OLD.reminders OR NEW.due_effective IS DISTINCT FROM OLD.due_effective
      OR NEW.completed IS DISTINCT FROM OLD.completed OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at))
    EXECUTE FUNCTION rearm_task_reminders()
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER tasks_rearm_reminders ON tasks`.execute(db)
  await sql`DROP TRIGGER tasks_arm_reminders ON tasks`.execute(db)
  await sql`DROP FUNCTION rearm_task_reminders()`.execute(db)
  await sql`DROP FUNCTION arm_task_reminders(text, uuid, jsonb, timestamptz, boolean)`.execute(db)
  await sql`DROP FUNCTION reminder_time(jsonb, timestamptz)`.execute(db)
  await sql`DROP TABLE reminder_firings`.execute(db)
  await sql`ALTER TABLE tasks DROP COLUMN reminders`.execute(db)
}
