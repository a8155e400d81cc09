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

/** `direct`: on DATABASE_DIRECT_URL (a session of its own, not through a pooler), for migrations. */
export async function openScriptDatabase ({ migrate, poolMax = 1, direct = false }: { migrate: boolean, poolMax?: number, direct?: boolean }): Promise<{ config: Readonly<ResolvedConfig>, db: Kysely<Database>, close: () => Promise<void> }> {
  const { config, stop } = await bootstrap(loadConfig(process.env), { migrate, checkServiceRole: false })
  const db = createDatabase({ url: direct ? config.database.directUrl : config.database.url, poolMax })
  return { config, db, close: async () => { await db.destroy(); await stop() } }
}
