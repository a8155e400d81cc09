/** Transactions that compose: a caller already holding one is not given a second. */
import type { Kysely, Transaction } from 'kysely'
import type { Database } from './types.js'

/**
 * Runs work in one transaction: the caller's, when `db` is one already (Kysely cannot nest
 * them), or a new one.
 */
export async function atomically<T> (db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return await work(db as Transaction<Database>)
  return await db.transaction().execute(work)
}
