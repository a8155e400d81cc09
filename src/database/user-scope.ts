/**
 * A request's database work, done as its user. With row-level security on, the caller is
 * named in the transaction of every statement (`set_config('app.user_id', …, true)`, the key
 * of every policy in db/migrations/202611240800_row_level_security.ts): even a statement that
 * forgot its `user_id = $owner` then reads and writes only this user's rows. The setting is
 * local to its transaction, so it ends at the statement's end (asUser: each statement is its
 * own transaction, on one reserved connection) or at COMMIT/ROLLBACK (asUserAtomically), and a
 * pooled connection never carries one user's id into the next request. How the setting
 * travels with each statement at no extra round trip: src/database/user-statements.ts.
 * With row-level security off, the work runs on the pool as is.
 */
import { CompiledQuery, type Kysely, type Transaction } from 'kysely'
import { atomically } from './transactions.js'
import { SET_USER_SQL } from './user-statements.js'
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
  // Sent with the statements that follow it, not on its own (src/database/user-statements.ts).
  const nameUser = async (executor: Kysely<Database>, userId: string): Promise<void> => {
    await executor.executeQuery(CompiledQuery.raw(SET_USER_SQL, [userId]))
  }
  return {
    // One reserved connection; each statement is its own transaction, the caller set in it.
    asUser: async (userId, work) => await db.connection().execute(async (connection) => {
      await nameUser(connection, userId)
      return await work(connection)
    }),
    asUserAtomically: async (userId, work) => await db.transaction().execute(async (trx) => {
      await nameUser(trx, userId)
      return await work(trx)
    })
  }
}
