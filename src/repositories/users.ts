/**
 * Users. The row is keyed by the token's `sub`; the auth plugin creates it and keeps its
 * claims, `updateSettings` writes what the user sets.
 */
import { type Kysely, sql } from 'kysely'
import { atomically } from '../database/transactions.js'
import type { Database, UserRow } from '../database/types.js'
import { lockChangeCounter } from './events.js'

export async function findById (db: Kysely<Database>, userId: string): Promise<UserRow | undefined> {
  return await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst()
}

/**
 * Creates the user on first sight; later calls update email/name only when the token carries
 * a different value. Concurrent first requests create one row (ON CONFLICT).
 */
export async function upsert (db: Kysely<Database>, userId: string, claims: { email?: string | undefined, name?: string | undefined }): Promise<void> {
  const email = claims.email ?? null
  const name = claims.name ?? null
  await db.insertInto('users')
    .values({ id: userId, email, name })
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
      email: eb.fn.coalesce(eb.ref('excluded.email'), eb.ref('users.email')),
      name: eb.fn.coalesce(eb.ref('excluded.name'), eb.ref('users.name')),
      updated_at: eb.fn('now')
    })).where((eb) => eb.or([
      eb.and([eb('excluded.email', 'is not', null), eb('excluded.email', 'is distinct from', eb.ref('users.email'))]),
      eb.and([eb('excluded.name', 'is not', null), eb('excluded.name', 'is distinct from', eb.ref('users.name'))])
    ])))
    .execute()
}

/**
 * Sets the user's settings given (a merge patch's members); the row as it now is. A zone
 * change holds the user's change counter, as every task write does, so no task write reads
 * the zone while it changes (db/migrations/202611281800_task_due_dates.ts); the tasks that
 * follow the zone are then recomputed by the caller (tasks.recomputeFollowingDue). A zone
 * PostgreSQL does not know fails with 22023 (database/errors.ts: isUnknownTimeZone).
 */
export async function updateSettings (db: Kysely<Database>, userId: string, settings: { time_zone?: string | null }): Promise<UserRow | undefined> {
  const zone = settings.time_zone
  if (zone === undefined) return await findById(db, userId)
  return await atomically(db, async (trx) => {
    await lockChangeCounter(trx, userId)
    return await trx.updateTable('users')
      .set({ time_zone: zone, updated_at: sql<string>`now()` })
      .where('id', '=', userId)
      .where(sql<boolean>`(${zone}::text IS NULL OR (now() AT TIME ZONE ${zone}::text) IS NOT NULL)`)
      .returningAll()
      .executeTakeFirst()
  })
}
