/**
 * Open event streams (db/migrations/202611281250_event_streams.ts): a row per stream, kept
 * alive by its process, bounding a user's streams across every process and telling writers
 * whom to wake.
 */
import { type Kysely, sql } from 'kysely'
import { atomically } from '../database/transactions.js'
import type { Database } from '../database/types.js'
import * as events from './events.js'

export type OpenRefusal = 'full' | 'ahead' | 'gone'

/**
 * Registers a stream and fixes where it starts, in one transaction that holds the user's
 * change counter (no change of theirs is half-way meanwhile): every event numbered after the
 * returned `after` commits later, and its writer sees this stream's row and wakes it.
 * 'full': the user has `max` live streams already; 'ahead': `resumeAfter` is newer than their
 * newest event; 'gone': events after `resumeAfter` are no longer all kept.
 */
export async function open (db: Kysely<Database>, userId: string, streamId: string, options: { ttlSeconds: number, max: number, resumeAfter?: string | undefined }): Promise<{ after: string } | OpenRefusal> {
  return await atomically(db, async (trx) => {
    await events.lockChangeCounter(trx, userId)
    await trx.deleteFrom('event_streams').where('user_id', '=', userId).where('expires_at', '<=', sql<string>`now()`).execute()
    const { live } = await trx.selectFrom('event_streams').select((eb) => eb.fn.countAll<string>().as('live')).where('user_id', '=', userId).executeTakeFirstOrThrow()
    if (Number(live) >= options.max) return 'full'
    const latest = await events.latestSeq(trx, userId)
    let after = latest
    if (options.resumeAfter !== undefined) {
      const resume = BigInt(options.resumeAfter)
      if (resume > BigInt(latest)) return 'ahead'
      // Numbers are handed out without gaps, one event each: what follows `resume` is all
      // there unless the oldest kept is later than the next number.
      const oldest = await events.oldestSeq(trx, userId)
      if (resume < BigInt(latest) && (oldest === undefined || BigInt(oldest) > resume + 1n)) return 'gone'
      after = resume.toString()
    }
    await trx.insertInto('event_streams')
      .values({ user_id: userId, id: streamId, expires_at: sql<string>`now() + ${options.ttlSeconds} * interval '1 second'` })
      .execute()
    return { after }
  })
}

/**
 * Keeps the user's streams' rows (those open in one process) alive for another `ttlSeconds`, in
 * one statement. A stream that was held up past its lapse (a process too busy to renew, a slow
 * database) may find its row swept: it is put back, and the count of those put back says that
 * writers may have skipped waking them meanwhile.
 */
export async function renew (db: Kysely<Database>, userId: string, streamIds: readonly string[], ttlSeconds: number): Promise<{ restored: number }> {
  if (streamIds.length === 0) return { restored: 0 }
  const rows = await db.insertInto('event_streams')
    .values(streamIds.map((id) => ({ user_id: userId, id, expires_at: sql<string>`now() + ${ttlSeconds} * interval '1 second'` })))
    .onConflict((oc) => oc.columns(['user_id', 'id']).doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') }))
    // xmax is 0 on a row this statement inserted, not on one it updated.
    .returning(sql<boolean>`xmax = 0`.as('inserted'))
    .execute()
  return { restored: rows.filter((row) => row.inserted).length }
}

/**
 * Deletes up to `batch` lapsed registrations of every user (the one statement here not
 * scoped by a user: a function of the migration); returns how many.
 */
export async function purgeLapsed (db: Kysely<Database>, batch: number): Promise<number> {
  const { rows } = await sql<{ purged: number }>`SELECT purge_lapsed_event_streams(${batch}::integer) AS purged`.execute(db)
  return rows[0]?.purged ?? 0
}

export async function close (db: Kysely<Database>, userId: string, streamId: string): Promise<void> {
  await db.deleteFrom('event_streams').where('user_id', '=', userId).where('id', '=', streamId).execute()
}
