/**
 * The event log (db/migrations/202611281200_change_record.ts): one row per change of a task or
 * category, written by the tables' triggers in the changing transaction and numbered in the
 * user's commit order. Read here; never written here.
 */
import { type Kysely, sql } from 'kysely'
import { staticQuery } from '../database/static-query.js'
import type { Database } from '../database/types.js'
import type { EventRow } from '../domain/events.js'

// Built once (database/static-query.ts).
const selectAfter = staticQuery((db: Kysely<Database>, userId: string, after: string, limit: number) => db.selectFrom('events')
  .select(['user_id', 'seq', 'type', 'occurred_at', 'data'])
  .where('user_id', '=', userId).where('seq', '>', after)
  .orderBy('seq')
  .limit(limit))

/**
 * The user's events numbered after `after`, oldest first, at most `limit`: one range scan of
 * the primary key. The event hub reads many users' at once (`listAfterForFeeds`), each as this.
 */
export async function listAfter (db: Kysely<Database>, userId: string, after: string, limit: number): Promise<EventRow[]> {
  return await selectAfter(db, userId, after, limit)
}

/** One feed's read in `listAfterForFeeds`: what `listAfter` would be asked. */
export interface FeedRead {
  userId: string
  after: string
  limit: number
}

/**
 * Several feeds' reads in one statement (db/migrations/202611291700_stream_feed_reads.ts),
 * for the event hub only: the users are those with a stream open in this process. Answers
 * each read with what `listAfter` would, in the same order; a row of a user other than its
 * read's is refused, not handed on.
 */
export async function listAfterForFeeds (db: Kysely<Database>, reads: readonly FeedRead[]): Promise<EventRow[][]> {
  const { rows } = await sql<EventRow & { request: number }>`
    SELECT request, user_id, seq, type, occurred_at, data
    FROM read_stream_feeds(${reads.map((read) => read.userId)}::text[], ${reads.map((read) => read.after)}::bigint[], ${reads.map((read) => read.limit)}::integer[])
    ORDER BY request, seq
  `.execute(db)
  const answers: EventRow[][] = reads.map(() => [])
  for (const { request, ...row } of rows) {
    const read = reads[request - 1]
    if (read === undefined || row.user_id !== read.userId) throw new Error('read_stream_feeds answered a read it was not asked')
    ;(answers[request - 1] as EventRow[]).push(row)
  }
  return answers
}

/** The number of the user's oldest event still kept, or undefined when none is. */
export async function oldestSeq (db: Kysely<Database>, userId: string): Promise<string | undefined> {
  const row = await db.selectFrom('events').select('seq').where('user_id', '=', userId).orderBy('seq').limit(1).executeTakeFirst()
  return row?.seq
}

/** A task purged or a category deleted for good: what sync reports in `deleted`. */
export interface Deletion {
  seq: string
  kind: 'task' | 'category'
  id: string
}

/**
 * The first `limit` deletions numbered after `after`, in change order, leaving out those a
 * later change of the same entity supersedes (deleted again later, or created again with the
 * same id and present now), so that sync reports each entity once, in its latest state.
 */
export async function deletionsSince (db: Kysely<Database>, userId: string, after: string, limit: number): Promise<Deletion[]> {
  const { rows } = await sql<{ seq: string, type: string, entity_id: string }>`
    SELECT e.seq, e.type, e.entity_id FROM events e
    WHERE e.user_id = ${userId} AND e.seq > ${after}::bigint AND e.type IN ('task.purged', 'category.deleted')
      AND NOT EXISTS (
        SELECT FROM events later
        WHERE later.user_id = e.user_id AND later.entity_id = e.entity_id AND later.seq > e.seq
          AND later.type IN ('task.purged', 'category.deleted') AND later.type = e.type)
      AND NOT (e.type = 'task.purged' AND EXISTS (SELECT FROM tasks t WHERE t.user_id = e.user_id AND t.id = e.entity_id))
      AND NOT (e.type = 'category.deleted' AND EXISTS (SELECT FROM categories c WHERE c.user_id = e.user_id AND c.id = e.entity_id))
    ORDER BY e.seq
    LIMIT ${limit}
  `.execute(db)
  return rows.map((row) => ({ seq: row.seq, kind: row.type === 'task.purged' ? 'task' : 'category', id: row.entity_id }))
}

/**
 * Takes the user's change counter for the rest of the transaction. Every writing statement
 * takes it by itself; a transaction of several statements calls this first, so that it
 * holds the counter before any row lock (no deadlock with a writer holding a row and
 * waiting for the counter) and its next statement's snapshot sees every change committed
 * before it.
 */
export async function lockChangeCounter (db: Kysely<Database>, userId: string): Promise<void> {
  // Only the counter of the user the statements name: handed another user's id (a bug that
  // row-level security contains), this takes nothing, and what follows finds nothing.
  await sql`SELECT lock_change_counter(${userId}) WHERE ${userId} = current_setting('app.user_id', true)`.execute(db)
}

/** The number of the user's latest committed change ('0' before the first). */
export async function latestSeq (db: Kysely<Database>, userId: string): Promise<string> {
  const row = await db.selectFrom('change_counters').select('seq').where('user_id', '=', userId).executeTakeFirst()
  return row?.seq ?? '0'
}

/**
 * Deletes, for every user, up to `batch` events older than `retentionDays` (a function of the
 * migration that may see every user's events, the one statement here not scoped by a user);
 * returns how many.
 */
export async function purgeExpired (db: Kysely<Database>, retentionDays: number, batch: number): Promise<number> {
  const { rows } = await sql<{ purged: number }>`
    SELECT purge_expired_events(${retentionDays} * interval '1 day', ${batch}::integer) AS purged
  `.execute(db)
  return rows[0]?.purged ?? 0
}

/** One event of the user by its number; undefined when there is none (never written, or expired). */
export async function findBySeq (db: Kysely<Database>, userId: string, seq: string): Promise<EventRow | undefined> {
  return await db.selectFrom('events').select(['user_id', 'seq', 'type', 'occurred_at', 'data'])
    .where('user_id', '=', userId).where('seq', '=', seq)
    .executeTakeFirst()
}
