/**
 * The suite's PostgreSQL, prepared by scripts/test.ts: one shared, migrated database (tests
 * isolate themselves by working on fresh random users) and, for a test that needs a server
 * state of its own, a private database cloned from the migrated template and dropped after.
 */
import { randomBytes } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import type { Test } from 'tap'
import { createDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import type { Database } from '../../src/database/types.js'
import { withDatabase } from '../../src/database/urls.js'

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set: run the suite with \`npm test\``)
  return value
}

export const adminUrl = (): string => required('TEST_DATABASE_ADMIN_URL')
export const sharedUrl = (): string => required('TEST_DATABASE_SHARED_URL')

const shared = new Map<string, Kysely<Database>>()

function sharedPool (t: Test, role: string | undefined): Kysely<Database> {
  const key = role ?? ''
  let db = shared.get(key)
  if (db === undefined) {
    const pool = createDatabase({ url: sharedUrl(), poolMax: 5, ...(role === undefined ? {} : { role }) })
    db = pool
    shared.set(key, pool)
    // Close at the end of the whole file, not of the test that asked first.
    let root: Test = t
    while (root.parent !== undefined && 'teardown' in root.parent) root = root.parent as Test
    root.teardown(async () => { shared.delete(key); await pool.destroy() })
  }
  return db
}

/**
 * The shared test database as its owner, which row-level security does not confine: for
 * fixtures and for assertions that must see every user's rows (one pool per test process).
 */
export function sharedDb (t: Test): Kysely<Database> {
  return sharedPool(t, undefined)
}

/** The shared test database as the service works on it: role todo_app, under the policies. */
export function sharedServiceDb (t: Test): Kysely<Database> {
  return sharedPool(t, SERVICE_ROLE)
}

/** A private migrated database for this test, dropped when it ends. */
export async function isolatedDatabase (t: Test): Promise<{ url: string, db: Kysely<Database> }> {
  const name = `todo_test_${randomBytes(6).toString('hex')}`
  const admin = createDatabase({ url: adminUrl(), poolMax: 1 })
  try {
    await sql`CREATE DATABASE ${sql.id(name)} TEMPLATE ${sql.id(required('TEST_DATABASE_TEMPLATE'))}`.execute(admin)
  } finally {
    await admin.destroy()
  }
  const url = withDatabase(adminUrl(), name)
  const db = createDatabase({ url, poolMax: 5 })
  t.teardown(async () => {
    await db.destroy()
    const dropper = createDatabase({ url: adminUrl(), poolMax: 1 })
    try {
      await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(dropper)
    } finally {
      await dropper.destroy()
    }
  })
  return { url, db }
}
