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
import { openDatabaseServer, serverVersion } from '../src/bootstrap.js'
import { recreateDatabase, withDatabase } from '../src/database/admin.js'
import { createDatabase } from '../src/database/create.js'
import { migrateToLatest } from '../src/database/migrate.js'

const TEMPLATE = 'todo_test_template'
const SHARED = 'todo_test'

async function main (): Promise<number> {
  const given = process.env.TEST_DATABASE_URL
  const server = await openDatabaseServer({
    url: given === undefined || given === '' ? undefined : given,
    dataDir: path.resolve('.data/test-pg'),
    port: Number(process.env.TEST_EMBEDDED_PG_PORT ?? 54339)
  })
  const adminUrl = server.adminUrl
  try {
    const templateUrl = await recreateDatabase(adminUrl, TEMPLATE)
    const template = createDatabase({ url: templateUrl, poolMax: 1 })
    try {
      await migrateToLatest(template, templateUrl)
    } finally {
      await template.destroy()
    }
    process.stdout.write(`# PostgreSQL ${await serverVersion(withDatabase(adminUrl, TEMPLATE))}${server.embedded ? ' (embedded)' : ''}\n`)
    await recreateDatabase(adminUrl, SHARED, TEMPLATE)

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
    await server.stop()
  }
}

main().then((code) => { process.exit(code) }, (error: unknown) => {
  process.stderr.write(`test setup failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
