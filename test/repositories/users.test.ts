/**
 * src/repositories/users.ts against PostgreSQL: a user is created on first sight and follows
 * the token's email and name without churning updated_at. Called on the owner's pool.
 */
import type { Kysely } from 'kysely'
import t from 'tap'
import type { Database } from '../../src/database/types.js'
import * as users from '../../src/repositories/users.js'
import { sharedDb } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

const LONG_AGO = '2000-01-01T00:00:00.000Z'

/** Sets updated_at far back, so that any later write shows. */
async function age (db: Kysely<Database>, userId: string): Promise<void> {
  await db.updateTable('users').set({ updated_at: LONG_AGO }).where('id', '=', userId).execute()
}

t.test('users repository', async (t) => {
  const db = sharedDb(t)

  t.test('findById misses an unknown id', async (t) => {
    t.equal(await users.findById(db, newUserId('nobody')), undefined)
  })

  t.test('upsert creates the user on first sight', async (t) => {
    const id = newUserId('alice')
    await users.upsert(db, id, { email: 'alice@example.com', name: 'Alice' })
    const row = await users.findById(db, id)
    t.match(row, { id, email: 'alice@example.com', name: 'Alice' })
    t.equal(row?.updated_at, row?.created_at, 'created and updated together')
  })

  t.test('upsert creates a user without email or name', async (t) => {
    const id = newUserId('anonymous')
    await users.upsert(db, id, {})
    t.match(await users.findById(db, id), { id, email: null, name: null })
  })

  t.test('concurrent first upserts create one row, and none fails', async (t) => {
    for (let round = 0; round < 5; round++) {
      const id = newUserId('racer')
      const emails = [1, 2, 3, 4, 5].map((n) => `racer${n}@example.com`)
      const outcomes = await Promise.allSettled(emails.map(async (email) => { await users.upsert(db, id, { email, name: 'Racer' }) }))
      t.same(outcomes.filter((o) => o.status === 'rejected'), [], `round ${round}: every upsert succeeded`)
      const rows = await db.selectFrom('users').select('email').where('id', '=', id).execute()
      t.equal(rows.length, 1, `round ${round}: one row`)
      t.ok(emails.includes(rows[0]?.email as string), `round ${round}: with one of the emails`)
    }
  })

  t.test('a later upsert with the same values changes nothing, updated_at included', async (t) => {
    const id = newUserId('alice')
    await users.upsert(db, id, { email: 'alice@example.com', name: 'Alice' })
    await age(db, id)
    await users.upsert(db, id, { email: 'alice@example.com', name: 'Alice' })
    t.match(await users.findById(db, id), { email: 'alice@example.com', name: 'Alice', updated_at: LONG_AGO })
  })

  t.test('a later upsert without email or name keeps the stored ones', async (t) => {
    const id = newUserId('alice')
    await users.upsert(db, id, { email: 'alice@example.com', name: 'Alice' })
    await age(db, id)
    await users.upsert(db, id, {})
    await users.upsert(db, id, { email: undefined, name: undefined })
    t.match(await users.findById(db, id), { email: 'alice@example.com', name: 'Alice', updated_at: LONG_AGO })
  })

  t.test('a later upsert with a new email changes the email only, and moves updated_at', async (t) => {
    const id = newUserId('alice')
    await users.upsert(db, id, { email: 'alice@example.com', name: 'Alice' })
    const created = await users.findById(db, id)
    await age(db, id)
    await users.upsert(db, id, { email: 'alice@example.org' })
    const row = await users.findById(db, id)
    t.match(row, { email: 'alice@example.org', name: 'Alice' })
    t.ok(row !== undefined && row.updated_at > LONG_AGO, 'updated_at moved')
    t.equal(row?.created_at, created?.created_at, 'created_at did not')
  })

  t.test('a later upsert with a new name changes the name only, and moves updated_at', async (t) => {
    const id = newUserId('alice')
    await users.upsert(db, id, { email: 'alice@example.com', name: 'Alice' })
    await age(db, id)
    await users.upsert(db, id, { email: 'alice@example.com', name: 'Alice Liddell' })
    const row = await users.findById(db, id)
    t.match(row, { email: 'alice@example.com', name: 'Alice Liddell' })
    t.ok(row !== undefined && row.updated_at > LONG_AGO, 'updated_at moved')
  })

  t.test('a later upsert fills in an email or name first seen now', async (t) => {
    const id = newUserId('alice')
    await users.upsert(db, id, {})
    await age(db, id)
    await users.upsert(db, id, { email: 'alice@example.com' })
    const row = await users.findById(db, id)
    t.match(row, { email: 'alice@example.com', name: null })
    t.ok(row !== undefined && row.updated_at > LONG_AGO, 'updated_at moved')
  })

  t.test('upserts of one user leave other users alone', async (t) => {
    const alice = newUserId('alice')
    const bob = newUserId('bob')
    await users.upsert(db, alice, { email: 'alice@example.com', name: 'Alice' })
    await users.upsert(db, bob, { email: 'bob@example.com', name: 'Bob' })
    await age(db, bob)
    await users.upsert(db, alice, { email: 'alice@example.org', name: 'Alice L.' })
    t.match(await users.findById(db, bob), { email: 'bob@example.com', name: 'Bob', updated_at: LONG_AGO })
  })
})
