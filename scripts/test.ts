/**
 * npm test: prepares a PostgreSQL for the suite, then runs tap.
 * - With TEST_DATABASE_URL (any database on the server to use, e.g.
 *   postgres://postgres@127.0.0.1:5432/postgres) the suite runs there; without it, on an
 *   embedded PostgreSQL of its own in .data/test-pg (port TEST_EMBEDDED_PG_PORT, 54339).
 * - Migrations run once, into a template database; the shared test database and any
 *   isolated one a test asks for are cloned from it (CREATE DATABASE … TEMPLATE: fast).
 * Extra arguments go to tap (`npm test -- test/routes/categories.test.ts`).
 */
import '../src/node-version.js'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { sql } from 'kysely'
import { createDatabase } from '../src/database/create.js'
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../src/database/embedded.js'
import { migrateToLatest } from '../src/database/migrate.js'
import { withDatabase } from '../src/database/urls.js'

const TEMPLATE = 'todo_test_template'
const SHARED = 'todo_test'

async function recreate (adminUrl: string, name: string, template?: string): Promise<void> {
  const admin = createDatabase({ url: adminUrl, poolMax: 1 })
  try {
    await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(admin)
    await (template === undefined
      ? sql`CREATE DATABASE ${sql.id(name)}`
      : sql`CREATE DATABASE ${sql.id(name)} TEMPLATE ${sql.id(template)}`).execute(admin)
  } finally {
    await admin.destroy()
  }
}

async function main (): Promise<number> {
  // Which runtime ran the suite: tap and every test's child process use this same binary.
  process.stdout.write(`# Node.js ${process.versions.node} (${process.execPath})\n`)
  let embedded: EmbeddedDatabase | undefined
  let adminUrl = process.env.TEST_DATABASE_URL
  if (adminUrl === undefined || adminUrl === '') {
    embedded = await startEmbeddedPostgres({
      dataDir: path.resolve('.data/test-pg'),
      port: Number(process.env.TEST_EMBEDDED_PG_PORT ?? 54339)
    })
    adminUrl = embedded.url
  }
  try {
    await recreate(adminUrl, TEMPLATE)
    const template = createDatabase({ url: withDatabase(adminUrl, TEMPLATE), poolMax: 1 })
    try {
      await migrateToLatest(template)
      const { rows } = await sql<{ server_version: string }>`SHOW server_version`.execute(template)
      process.stdout.write(`# PostgreSQL ${rows[0]?.server_version ?? '?'}${embedded === undefined ? '' : ' (embedded)'}\n`)
    } finally {
      await template.destroy()
    }
    await recreate(adminUrl, SHARED, TEMPLATE)

    const tap = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: {
        ...process.env,
        TEST_DATABASE_ADMIN_URL: adminUrl,
        TEST_DATABASE_SHARED_URL: withDatabase(adminUrl, SHARED),
        TEST_DATABASE_TEMPLATE: TEMPLATE
      }
    })
    return await new Promise<number>((resolve) => tap.on('exit', (code) => { resolve(code ?? 1) }))
  } finally {
    await embedded?.stop()
  }
}

main().then((code) => { process.exit(code) }, (error: unknown) => {
  process.stderr.write(`test setup failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
