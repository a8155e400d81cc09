/**
 * A request's database work, done as its user. With row-level security on, the work runs in
 * one transaction whose first statement sets `app.user_id`, the key of every policy
 * (db/migrations/202611240800_row_level_security.ts): even a statement that forgot its
 * `user_id = $owner` then reads and writes only this user's rows. The setting is local to the
 * transaction (set_config(…, true)), so it ends at COMMIT or ROLLBACK and a pooled connection
 * never carries one user's id into the next request. With row-level security off, the work
 * runs on the pool as before, one implicit transaction per statement.
 */
import { type Kysely, sql, type Transaction } from 'kysely'
import { atomically } from './transactions.js'
import type { Database } from './types.js'

export interface UserScope {
  /** Runs work's statements as this user. */
  asUser: <T>(userId: string, work: (db: Kysely<Database>) => Promise<T>) => Promise<T>
  /** The same, and all in one transaction (statements that must commit together). */
  asUserAtomically: <T>(userId: string, work: (trx: Transaction<Database>) => Promise<T>) => Promise<T>
}

export function createUserScope (db: Kysely<Database>, { rowLevelSecurity }: { rowLevelSecurity: boolean }): UserScope {
  if (!rowLevelSecurity) {
    return {
      asUser: async (_userId, work) => await work(db),
      asUserAtomically: async (_userId, work) => await atomically(db, work)
    }
  }
  const asUserAtomically: UserScope['asUserAtomically'] = async (userId, work) => await db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('app.user_id', ${userId}, true)`.execute(trx)
    return await work(trx)
  })
  return { asUser: asUserAtomically, asUserAtomically }
}
