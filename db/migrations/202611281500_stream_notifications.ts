/**
 * Event streams, second step (API.md part two, "Events", Stream):
 * - The notification names the newest event too: `<seq>:<user id>` (the number first, as a
 *   user id may hold a colon), one per user per statement, still only for users with an open
 *   stream. A process whose feed of that user has read that far already reads nothing.
 * - purge_lapsed_event_streams(batch): deletes registrations whose process stopped renewing
 *   them (it crashed, or lost the database) of every user, a bounded batch at a time; a
 *   user's own lapsed rows also go whenever one of their streams opens. SECURITY DEFINER with
 *   pg_catalog only, for the retention sweep, which names no user.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
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
  await sql`
    CREATE FUNCTION purge_lapsed_event_streams(batch integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
      purged integer;
    BEGIN
      WITH lapsed AS (
        SELECT user_id, id FROM ${sql.id(schema, 'event_streams')} WHERE expires_at <= now() LIMIT batch
      )
      DELETE FROM ${sql.id(schema, 'event_streams')} s USING lapsed l WHERE s.user_id = l.user_id AND s.id = l.id;
      GET DIAGNOSTICS purged = ROW_COUNT;
      RETURN purged;
    END
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION purge_lapsed_event_streams(integer) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION purge_lapsed_event_streams(integer) TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  await sql`DROP FUNCTION purge_lapsed_event_streams(integer)`.execute(db)
  await sql`
    CREATE OR REPLACE FUNCTION notify_event_streams() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('todo_events', added.user_id)
      FROM (SELECT DISTINCT user_id FROM added_events) AS added
      WHERE EXISTS (SELECT FROM ${sql.id(schema, 'event_streams')} s WHERE s.user_id = added.user_id AND s.expires_at > now());
      RETURN NULL;
    END
    $$
  `.execute(db)
}
