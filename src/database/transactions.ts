/** Transactions that compose: a caller already holding one is not given a second. */
import { ControlledTransaction, type Kysely, type Transaction } from 'kysely'
import type { Database } from './types.js'

/**
 * Runs work in one transaction: the caller's, when `db` is one already (Kysely cannot nest
 * them), or a new one.
 */
export async function atomically<T> (db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return await work(db as Transaction<Database>)
  return await db.transaction().execute(work)
}

/**
 * Like `atomically`, but the transaction can hold savepoints: the caller's when it is a
 * controlled one, or a new one, committed when work returns and rolled back when it throws.
 * A caller's plain (uncontrolled) transaction is refused: savepoints could not be set in it.
 */
export async function controlled<T> (db: Kysely<Database>, work: (trx: ControlledTransaction<Database>) => Promise<T>): Promise<T> {
  if (db instanceof ControlledTransaction) return await work(db as ControlledTransaction<Database>)
  if (db.isTransaction) throw new Error('savepoints need a controlled transaction (startTransaction)')
  const trx = await db.startTransaction().execute()
  let result: T
  try {
    result = await work(trx)
  } catch (error) {
    // The work's own error is the one to report; a failed rollback ends the connection anyway.
    await trx.rollback().execute().catch(() => {})
    throw error
  }
  await trx.commit().execute()
  return result
}

/**
 * Runs work behind a savepoint of `trx`: kept (released) when work says so, otherwise rolled
 * back to, which also recovers a transaction that a failed statement inside work aborted.
 * Savepoint names are plain identifiers; nested ones must differ.
 */
export async function savepoint<T> (trx: ControlledTransaction<Database>, name: string, work: () => Promise<{ keep: boolean, value: T }>): Promise<T> {
  // Kysely types savepoint names per instance; these are chosen at run time.
  const inner = await (trx as unknown as Savepoints).savepoint(name).execute()
  let outcome: { keep: boolean, value: T }
  try {
    outcome = await work()
  } catch (error) {
    await inner.rollbackToSavepoint(name).execute().catch(() => {})
    throw error
  }
  // Rolled back to, a savepoint still exists: released too, so a loop does not pile them up.
  if (!outcome.keep) await inner.rollbackToSavepoint(name).execute()
  await inner.releaseSavepoint(name).execute()
  return outcome.value
}

/** ControlledTransaction's savepoint methods, with names known only at run time. */
interface Savepoints {
  savepoint: (name: string) => { execute: () => Promise<Savepoints> }
  rollbackToSavepoint: (name: string) => { execute: () => Promise<unknown> }
  releaseSavepoint: (name: string) => { execute: () => Promise<unknown> }
}

/** A read-only transaction that sees one snapshot until `end()`, which is safe to call twice. */
export interface Snapshot {
  readonly db: Kysely<Database>
  /** Ends the transaction and gives its connection back to the pool. */
  end: () => Promise<void>
}

/**
 * Starts a REPEATABLE READ, READ ONLY transaction: every statement in it reads the database
 * as it was at the first one, however long the reading takes (an export streamed to a slow
 * client). The caller must `end()` it, whatever happens, or the connection stays taken.
 */
export async function readSnapshot (db: Kysely<Database>): Promise<Snapshot> {
  const trx = await db.startTransaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute()
  let ended: Promise<void> | undefined
  return {
    db: trx,
    // Nothing was written: a rollback ends it as well as a commit, and cannot fail on a conflict.
    end: async () => { ended ??= trx.rollback().execute().catch(() => {}); await ended }
  }
}
