/**
 * Event streams, fourth step: the log reads of many users' feeds in one statement.
 *
 * A process's streams of a user share one reader of that user's log (src/events/user-feed.ts),
 * so a write costs one read per process holding streams of its writer. With streams open for
 * many users, those reads were the largest part of what a delivered change cost the service
 * beyond its socket writes: a statement's round trip each, for a few rows
 * (docs/benchmarks.md, "Event streams: one read for many feeds"). The hub now gathers the
 * reads of a moment (src/events/feed-reads.ts) and sends them as one call of
 *
 *   read_stream_feeds(users, after, max_rows): for each i, the first max_rows[i] events of
 *   users[i] numbered after after[i], in order, tagged with i.
 *
 * Each request is the same range scan of the primary key the single read does; the rows are
 * those a read as that user would see. SECURITY DEFINER: the log is behind row-level security,
 * whose setting names one user per statement. What it gives the service's role beyond its
 * per-user reads: nothing it cannot already read one user at a time; the hub asks only for
 * users with a stream open in its process (authenticated when the stream opened) and hands
 * each row to its own user's feed (src/repositories/events.ts checks each row's user against
 * its request's). Arrays of unequal length, or a missing or negative limit, read nothing for
 * the requests concerned, never a whole log.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  await sql`
    CREATE FUNCTION read_stream_feeds(users text[], after bigint[], max_rows integer[])
    RETURNS TABLE (request integer, user_id text, seq bigint, type text, occurred_at timestamptz, data jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      SELECT r.request::integer, e.user_id, e.seq, e.type, e.occurred_at, e.data
      FROM unnest(users, after, max_rows) WITH ORDINALITY AS r(user_id, after, max_rows, request)
      CROSS JOIN LATERAL (
        SELECT e.user_id, e.seq, e.type, e.occurred_at, e.data FROM ${sql.id(schema, 'events')} e
        WHERE e.user_id = r.user_id AND e.seq > r.after
        ORDER BY e.seq
        LIMIT greatest(coalesce(r.max_rows, 0), 0)
      ) AS e
      ORDER BY r.request, e.seq
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION read_stream_feeds(text[], bigint[], integer[]) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION read_stream_feeds(text[], bigint[], integer[]) TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION read_stream_feeds(text[], bigint[], integer[])`.execute(db)
}
