/**
 * Service-wide secrets kept in the database (created by a migration), so that every process
 * signs and checks cursors with the same key without any configuration. Not user data: the
 * one table here that is not scoped by user.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../database/types.js'

export async function findSecret (db: Kysely<Database>, name: 'cursor'): Promise<string | undefined> {
  const row = await db.selectFrom('service_keys').select('secret').where('name', '=', name).executeTakeFirst()
  return row?.secret
}
