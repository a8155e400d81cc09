/**
 * npm run migrate (latest) | npm run migrate:down (revert the last one).
 * Uses DATABASE_DIRECT_URL (else DATABASE_URL), or the embedded PostgreSQL in DATA_DIR when it is unset.
 */
import '../src/node-version.js'
import { migrateDown, migrateToLatest } from '../src/database/migrate.js'
import { openScriptDatabase } from './database.js'

async function main (): Promise<void> {
  const direction = process.argv[2]
  if (direction !== 'latest' && direction !== 'down') throw new Error('usage: tsx scripts/migrate.ts latest|down')
  const { config, db, close } = await openScriptDatabase({ migrate: false, direct: true })
  try {
    const applied = direction === 'latest' ? await migrateToLatest(db, config.database.directUrl) : await migrateDown(db)
    process.stdout.write(applied.length === 0 ? 'nothing to do\n' : applied.map((name) => `${direction === 'latest' ? 'applied' : 'reverted'} ${name}\n`).join(''))
  } finally {
    await close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
