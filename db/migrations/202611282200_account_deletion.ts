/**
 * Account deletion (API.md part two, "Account": `DELETE /api/me`).
 * - delete_account(owner): erases every row of one user in one statement, and the queued jobs
 *   that name them. The service's role may not delete events (nor reminder firings, nor
 *   graphile-worker's jobs), so this runs with the owner's rights (SECURITY DEFINER,
 *   pg_catalog only), and only for the user the statement names in `app.user_id`: a caller
 *   cannot delete anybody else (the policies' rule, kept where the policies do not apply).
 *   Order: the user's change counter first (the change record's lock order), then the jobs
 *   (their keys come from rows still there: a delivery's webhook and event, a reminder's
 *   task and place), then the webhooks (so the task.purged events the task deletion writes
 *   owe no delivery), the tasks and categories (their triggers write events), and last the
 *   events, the streams' registrations, the counters and the user.
 * - It notifies channel `todo_account_deleted` with the user's id when it commits: every
 *   process's event hub then ends that user's open streams and forgets the user it had seen.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  const table = (name: string): ReturnType<typeof sql.id> => sql.id(schema, name)
  await sql`
    CREATE FUNCTION delete_account(owner text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
      IF owner IS NULL OR owner = '' OR owner IS DISTINCT FROM current_setting('app.user_id', true) THEN
        RAISE EXCEPTION 'an account may be deleted only by a statement naming its user'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      PERFORM ${table('lock_change_counter')}(owner);

      PERFORM graphile_worker.remove_job('webhook-delivery:' || d.webhook_id || ':' || d.event_seq)
      FROM ${table('webhook_deliveries')} d WHERE d.user_id = owner;
      PERFORM graphile_worker.remove_job('reminder:' || t.id || ':' || slot || ':' || owner)
      FROM ${table('tasks')} t CROSS JOIN generate_series(0, 4) AS slot
      WHERE t.user_id = owner AND t.reminders <> '[]'::jsonb;

      DELETE FROM ${table('webhook_attempts')} WHERE user_id = owner;
      DELETE FROM ${table('webhook_deliveries')} WHERE user_id = owner;
      DELETE FROM ${table('webhooks')} WHERE user_id = owner;
      DELETE FROM ${table('reminder_firings')} WHERE user_id = owner;
      DELETE FROM ${table('task_completions')} WHERE user_id = owner;
      DELETE FROM ${table('tasks')} WHERE user_id = owner;
      DELETE FROM ${table('categories')} WHERE user_id = owner;
      DELETE FROM ${table('idempotency_keys')} WHERE user_id = owner;
      DELETE FROM ${table('event_streams')} WHERE user_id = owner;
      DELETE FROM ${table('events')} WHERE user_id = owner;
      DELETE FROM ${table('change_counters')} WHERE user_id = owner;
      DELETE FROM ${table('users')} WHERE id = owner;
      PERFORM pg_notify('todo_account_deleted', owner);
    END
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION delete_account(text) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION delete_account(text) TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION delete_account(text)`.execute(db)
}
