/**
 * The suite's PostgreSQL, prepared by scripts/test.ts: one shared, migrated database (tests
 * isolate themselves by working on fresh random users) and, for a test that needs a server
 * state of its own, a private database cloned from the migrated template and dropped after.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Test } from 'tap'
import { dropDatabase, recreateDatabase } from '../../src/database/admin.js'
import { createDatabase, type DatabaseHandle, openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import type { Database } from '../../src/database/types.js'

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set: run the suite with \`npm test\``)
  return value
}

export const adminUrl = (): string => required('TEST_DATABASE_ADMIN_URL')
export const sharedUrl = (): string => required('TEST_DATABASE_SHARED_URL')

const shared = new Map<string, DatabaseHandle>()

function sharedHandle (t: Test, role: string | undefined): DatabaseHandle {
  const key = role ?? ''
  let handle = shared.get(key)
  if (handle === undefined) {
    const opened = openDatabase({ url: sharedUrl(), poolMax: 5, ...(role === undefined ? {} : { role }) })
    handle = opened
    shared.set(key, opened)
    // Close at the end of the whole file, not of the test that asked first.
    let root: Test = t
    while (root.parent !== undefined && 'teardown' in root.parent) root = root.parent as Test
    root.teardown(async () => { shared.delete(key); await opened.destroy() })
  }
  return handle
}

/**
 * The shared test database as its owner, which row-level security does not confine: for
 * fixtures and for assertions that must see every user's rows (one pool per test process).
 */
export function sharedDb (t: Test): Kysely<Database> {
  return sharedHandle(t, undefined).db
}

/** The same as a database handle, as the owner (whom row-level security does not confine): an app with row-level security off. */
export function sharedOwnerDatabase (t: Test): DatabaseHandle {
  return sharedHandle(t, undefined)
}

/** The shared test database as the service works on it: role todo_app, each statement naming its user. */
export function sharedServiceDatabase (t: Test): DatabaseHandle {
  return sharedHandle(t, SERVICE_ROLE)
}

/** A private migrated database for this test, dropped when it ends. */
export async function isolatedDatabase (t: Test): Promise<{ url: string, db: Kysely<Database> }> {
  const name = `todo_test_${randomBytes(6).toString('hex')}`
  const url = await recreateDatabase(adminUrl(), name, required('TEST_DATABASE_TEMPLATE'))
  const db = createDatabase({ url, poolMax: 5 })
  t.teardown(async () => {
    await db.destroy()
    await dropDatabase(adminUrl(), name)
  })
  return { url, db }
}
