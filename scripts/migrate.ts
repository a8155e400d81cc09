/**
 * npm run migrate (latest) | npm run migrate:down (revert the last one).
 * Uses DATABASE_URL, or the embedded PostgreSQL in DATA_DIR when it is unset.
 */
import { loadConfig } from '../src/config.js'
import { createDatabase } from '../src/database/create.js'
import { startEmbeddedPostgres } from '../src/database/embedded.js'
import { migrateDown, migrateToLatest } from '../src/database/migrate.js'
import { ensureEmbeddedDatabase } from '../src/database/embedded-database.js'

async function main (): Promise<void> {
  const direction = process.argv[2]
  if (direction !== 'latest' && direction !== 'down') throw new Error('usage: tsx scripts/migrate.ts latest|down')
  const config = loadConfig(process.env)
  const embedded = config.database.url === undefined ? await startEmbeddedPostgres(config.embedded) : undefined
  const url = config.database.url ?? await ensureEmbeddedDatabase(embedded!)
  const db = createDatabase({ url, poolMax: 1 })
  try {
    const applied = direction === 'latest' ? await migrateToLatest(db) : await migrateDown(db)
    process.stdout.write(applied.length === 0 ? 'nothing to do\n' : applied.map((name) => `${direction === 'latest' ? 'applied' : 'reverted'} ${name}\n`).join(''))
  } finally {
    await db.destroy()
    await embedded?.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
