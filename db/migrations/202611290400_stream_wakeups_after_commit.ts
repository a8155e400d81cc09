/**
 * Event streams, third step: the service wakes streams after its writes commit, instead of
 * inside them.
 *
 * A transaction that NOTIFYs takes PostgreSQL's notification queue lock before it commits
 * and keeps it until its commit record is flushed (async.c, PreCommit_Notify): committing
 * writers of users with open streams went one after the other, each waiting for the one
 * before to reach the disk (docs/benchmarks.md, "Event streams without the notifying writes").
 * - notify_event_streams (the statement trigger on events) no longer notifies for statements
 *   the service sends as a user: those carry `app.stream_wakeups = 'after-commit'`
 *   (src/database/user-statement.ts), and the service wakes the user's streams once its write
 *   has committed (src/events/wakeups.ts). A write without that setting (a maintenance
 *   function, SQL run by hand, a process of an earlier version) notifies as before.
 * - wake_event_streams(users): notifies `<newest event number>:<user id>` for each of the
 *   given users who has an open stream, as the trigger did; one call for many users, so one
 *   short notifying transaction serves a process's writes of the moment. SECURITY DEFINER
 *   (the registrations and the log of every user are behind row-level security); it reveals
 *   nothing (it returns nothing) and can only make a user's streams look at their own log.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  await sql`
    CREATE OR REPLACE FUNCTION notify_event_streams() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('app.stream_wakeups', true) = 'after-commit' THEN
        RETURN NULL;
      END IF;
      PERFORM pg_notify('todo_events', added.seq::text || ':' || added.user_id)
      FROM (SELECT user_id, max(seq) AS seq FROM added_events GROUP BY user_id) AS added
      WHERE EXISTS (SELECT FROM ${sql.id(schema, 'event_streams')} s WHERE s.user_id = added.user_id AND s.expires_at > now());
      RETURN NULL;
    END
    $$
  `.execute(db)
  await sql`
    CREATE FUNCTION wake_event_streams(users text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
      PERFORM pg_notify('todo_events', newest.seq::text || ':' || woken.user_id)
      FROM (SELECT DISTINCT u AS user_id FROM unnest(users) AS u) AS woken
      CROSS JOIN LATERAL (
        SELECT coalesce(max(e.seq), 0) AS seq FROM ${sql.id(schema, 'events')} e WHERE e.user_id = woken.user_id
      ) AS newest
      WHERE EXISTS (SELECT FROM ${sql.id(schema, 'event_streams')} s WHERE s.user_id = woken.user_id AND s.expires_at > now());
    END
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION wake_event_streams(text[]) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION wake_event_streams(text[]) TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  await sql`DROP FUNCTION wake_event_streams(text[])`.execute(db)
  await sql`
    CREATE OR REPLACE FUNCTION notify_event_streams() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('todo_events', added.seq::text || ':' || added.user_id)
      FROM (SELECT user_id, max(seq) AS seq FROM added_events GROUP BY user_id) AS added
      WHERE EXISTS (SELECT FROM ${sql.id(schema, 'event_streams')} s WHERE s.user_id = added.user_id AND s.expires_at > now());
      RETURN NULL;
    END
    $$
  `.execute(db)
}
