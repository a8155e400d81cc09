/**
 * The database a script works on: DATABASE_URL, or the embedded PostgreSQL in DATA_DIR (started
 * for the script and stopped by `close`).
 */
import type { Kysely } from 'kysely'
import type { Config } from '../src/config.js'
import { createDatabase } from '../src/database/create.js'
import { startEmbeddedPostgres } from '../src/database/embedded.js'
import { ensureEmbeddedDatabase } from '../src/database/embedded-database.js'
import type { Database } from '../src/database/types.js'

export async function openDatabase (config: Readonly<Config>, poolMax = 1): Promise<{ db: Kysely<Database>, close: () => Promise<void> }> {
  const embedded = config.database.url === undefined ? await startEmbeddedPostgres(config.embedded) : undefined
  const url = config.database.url ?? await ensureEmbeddedDatabase(embedded as NonNullable<typeof embedded>)
  const db = createDatabase({ url, poolMax })
  return { db, close: async () => { await db.destroy(); await embedded?.stop() } }
}
