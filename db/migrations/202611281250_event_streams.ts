/**
 * Open event streams (API.md part two, "Events", Stream), and the wake-up that reaches them.
 * - event_streams: one row per open stream, kept alive by its process (`expires_at`, renewed
 *   while the stream is open, so a crashed process's rows lapse by themselves). It bounds the
 *   streams per user across every process, and tells the writers whom to wake.
 * - A statement that writes events notifies channel `todo_events` with the user's id, only
 *   when that user has an open stream: NOTIFY makes committing transactions take a
 *   database-wide lock one after the other, so a write of a user nobody watches must not.
 *   The notification is sent only if the transaction commits; a process's listener wakes
 *   that user's streams, which then read the event log (never the payload) from where they are.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  await sql`
    CREATE UNLOGGED TABLE event_streams (
      user_id text NOT NULL,
      id uuid NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, id)
    )
  `.execute(db)
  await sql`
    CREATE FUNCTION notify_event_streams() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('todo_events', added.user_id)
      FROM (SELECT DISTINCT user_id FROM added_events) AS added
      WHERE EXISTS (SELECT FROM ${sql.id(schema, 'event_streams')} s WHERE s.user_id = added.user_id AND s.expires_at > now());
      RETURN NULL;
    END
    $$
  `.execute(db)
  await sql`
    CREATE TRIGGER events_notify_streams AFTER INSERT ON events
    REFERENCING NEW TABLE AS added_events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_event_streams()
  `.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON event_streams TO todo_app`.execute(db)
  await sql`ALTER TABLE event_streams ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`
    CREATE POLICY event_streams_of_current_user ON event_streams
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true))
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER events_notify_streams ON events`.execute(db)
  await sql`DROP FUNCTION notify_event_streams()`.execute(db)
  await sql`DROP TABLE event_streams`.execute(db)
}
