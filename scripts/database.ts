/**
 * The database a script works on, through the service's own bootstrap (src/bootstrap.ts):
 * DATABASE_URL, or the embedded PostgreSQL in DATA_DIR (started for the script and stopped by
 * `close`).
 */
import type { Kysely } from 'kysely'
import { bootstrap } from '../src/bootstrap.js'
import { loadConfig, type ResolvedConfig } from '../src/config.js'
import { createDatabase } from '../src/database/create.js'
import type { Database } from '../src/database/types.js'

export async function openScriptDatabase ({ migrate, poolMax = 1 }: { migrate: boolean, poolMax?: number }): Promise<{ config: Readonly<ResolvedConfig>, db: Kysely<Database>, close: () => Promise<void> }> {
  const { config, stop } = await bootstrap(loadConfig(process.env), { migrate, checkServiceRole: false })
  const db = createDatabase({ url: config.database.url, poolMax })
  return { config, db, close: async () => { await db.destroy(); await stop() } }
}
