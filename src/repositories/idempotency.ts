/**
 * Idempotency keys (API.md "Safe retries"): the first 201 sent for each (user, key), kept for
 * 24 hours in the database, so replays work across restarts and across processes. Callers use
 * these inside one transaction with the write they protect:
 *   claim → (find → replay | mismatch) or (write → save) → commit.
 */
import { createHash } from 'node:crypto'
import { type Kysely, type Transaction, sql } from 'kysely'
import type { Database, IdempotencyKeyRow } from '../database/types.js'

export const RETENTION = '24 hours'

export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * Takes a transaction-scoped advisory lock on (user, key). False when another transaction
 * holds it: a request with this key is in flight right now.
 */
export async function claim (trx: Transaction<Database>, userId: string, key: string): Promise<boolean> {
  // A 64-bit lock id from both parts, length-prefixed so ("ab", "c") and ("a", "bc") differ.
  const lockId = createHash('sha256').update(`${userId.length}:${userId}${key}`).digest().readBigInt64BE(0)
  const { rows } = await sql<{ claimed: boolean }>`
    SELECT pg_try_advisory_xact_lock(${lockId.toString()}::bigint) AS claimed
  `.execute(trx)
  return rows[0]?.claimed === true
}

/** The stored response for this key, if one younger than 24 hours exists. */
export async function find (db: Kysely<Database>, userId: string, key: string): Promise<IdempotencyKeyRow | undefined> {
  return await db.selectFrom('idempotency_keys').selectAll()
    .where('user_id', '=', userId).where('key', '=', key)
    .where('created_at', '>', sql<string>`now() - ${RETENTION}::interval`)
    .executeTakeFirst()
}

/** Records the response (replacing an expired record of the same key) and drops this user's expired keys. */
export async function save (db: Kysely<Database>, userId: string, key: string, requestHash: string, response: StoredResponse): Promise<void> {
  await db.deleteFrom('idempotency_keys')
    .where('user_id', '=', userId)
    .where('created_at', '<=', sql<string>`now() - ${RETENTION}::interval`)
    .execute()
  await db.insertInto('idempotency_keys')
    .values({
      user_id: userId,
      key,
      request_hash: requestHash,
      response_status: response.status,
      response_headers: JSON.stringify(response.headers),
      response_body: response.body
    })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doUpdateSet((eb) => ({
      request_hash: eb.ref('excluded.request_hash'),
      response_status: eb.ref('excluded.response_status'),
      response_headers: eb.ref('excluded.response_headers'),
      response_body: eb.ref('excluded.response_body'),
      created_at: sql<Date>`now()`
    })))
    .execute()
}
