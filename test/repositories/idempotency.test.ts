/**
 * src/repositories/idempotency.ts against PostgreSQL: the claim that keeps two requests with
 * one key from both writing, and the stored first response. Called on the owner's pool.
 */
import { type Kysely, sql } from 'kysely'
import t from 'tap'
import type { Database } from '../../src/database/types.js'
import * as idempotency from '../../src/repositories/idempotency.js'
import { sharedDb } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

async function newUser (db: Kysely<Database>, label: string): Promise<string> {
  const id = newUserId(label)
  await db.insertInto('users').values({ id, email: null, name: label }).execute()
  return id
}

const response = (body = '{"id":"1"}'): idempotency.StoredResponse => ({ status: 201, headers: { location: '/api/me/tasks/1' }, body })

/** Claims in a transaction of its own, committed at once. */
async function claimOnce (db: Kysely<Database>, userId: string, key: string): Promise<boolean> {
  return await db.transaction().execute(async (trx) => await idempotency.claim(trx, userId, key))
}

/** Claims in a transaction that stays open, holding the claim, until release() is called. */
async function holdClaim (db: Kysely<Database>, userId: string, key: string): Promise<{ claimed: boolean, release: () => Promise<void> }> {
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let claimed!: (value: boolean) => void
  const claimedNow = new Promise<boolean>((resolve) => { claimed = resolve })
  const done = db.transaction().execute(async (trx) => {
    claimed(await idempotency.claim(trx, userId, key))
    await released
  })
  done.catch(() => {})
  return { claimed: await Promise.race([claimedNow, done.then(() => false)]), release: async () => { release(); await done } }
}

/** Ages a stored record to the retention plus `beyond` (an interval; negative: not yet expired). */
async function backdate (db: Kysely<Database>, userId: string, key: string, beyond: string): Promise<void> {
  await db.updateTable('idempotency_keys')
    .set({ created_at: sql`now() - ${idempotency.RETENTION}::interval - ${beyond}::interval` })
    .where('user_id', '=', userId).where('key', '=', key).execute()
}

const keysOf = async (db: Kysely<Database>, userId: string): Promise<string[]> =>
  (await db.selectFrom('idempotency_keys').select('key').where('user_id', '=', userId).orderBy('key').execute()).map((r) => r.key)

t.test('idempotency repository', async (t) => {
  const db = sharedDb(t)

  t.test('claim: one request per user and key at a time', async (t) => {
    t.test('refuses a second claim while the first transaction holds it, and grants it after commit', async (t) => {
      const userId = newUserId('alice')
      const first = await holdClaim(db, userId, 'k')
      t.equal(first.claimed, true, 'the first claim is granted')
      try {
        t.equal(await claimOnce(db, userId, 'k'), false, 'a second transaction is refused while the first is open')
      } finally {
        await first.release()
      }
      t.equal(await claimOnce(db, userId, 'k'), true, 'granted once the first has committed')
    })

    t.test('is released when the holding transaction rolls back', async (t) => {
      const userId = newUserId('alice')
      await t.rejects(db.transaction().execute(async (trx) => {
        t.equal(await idempotency.claim(trx, userId, 'k'), true)
        throw new Error('write failed')
      }), /write failed/)
      t.equal(await claimOnce(db, userId, 'k'), true)
    })

    t.test('blocks only the same key of the same user', async (t) => {
      const alice = newUserId('alice')
      const bob = newUserId('bob')
      const held = await holdClaim(db, alice, 'k')
      try {
        t.equal(held.claimed, true)
        t.equal(await claimOnce(db, bob, 'k'), true, 'another user\'s same key is free')
        t.equal(await claimOnce(db, alice, 'k2'), true, 'the same user\'s other key is free')
      } finally {
        await held.release()
      }
    })

    t.test('does not confuse user and key split at another point', async (t) => {
      // ('…ab', 'c') and ('…a', 'bc') concatenate to the same text.
      const base = newUserId('split')
      const held = await holdClaim(db, `${base}ab`, 'c')
      try {
        t.equal(held.claimed, true)
        t.equal(await claimOnce(db, `${base}a`, 'bc'), true)
      } finally {
        await held.release()
      }
    })
  })

  t.test('find and save: the first response, kept for the retention period', async (t) => {
    t.test('find gives back what save stored, headers and body unchanged', async (t) => {
      const alice = await newUser(db, 'alice')
      const stored: idempotency.StoredResponse = {
        status: 201,
        headers: { location: '/api/me/tasks/6f1c', etag: '"1"', 'content-type': 'application/json; charset=utf-8', 'x-odd': 'ü "quoted" \\ back\\slash' },
        body: '{"title":"Ünïcode 🎉 \\u0000 escaped","tags":[]}'
      }
      await idempotency.save(db, alice, 'key-1', 'hash-1', stored)
      const row = await idempotency.find(db, alice, 'key-1')
      t.match(row, { user_id: alice, key: 'key-1', request_hash: 'hash-1', response_status: 201 })
      t.strictSame(row?.response_headers, stored.headers, 'headers as an object, as given')
      t.equal(row?.response_body, stored.body, 'the body byte for byte')
    })

    t.test('find misses an unknown key and another user\'s key', async (t) => {
      const alice = await newUser(db, 'alice')
      const bob = await newUser(db, 'bob')
      await idempotency.save(db, alice, 'k', 'h', response())
      t.equal(await idempotency.find(db, alice, 'other'), undefined)
      t.equal(await idempotency.find(db, bob, 'k'), undefined)
    })

    t.test('find keeps a record younger than the retention and misses an older one', async (t) => {
      const alice = await newUser(db, 'alice')
      await idempotency.save(db, alice, 'young', 'h', response())
      await idempotency.save(db, alice, 'old', 'h', response())
      await backdate(db, alice, 'young', '-1 minute')
      await backdate(db, alice, 'old', '1 second')
      t.match(await idempotency.find(db, alice, 'young'), { key: 'young' }, 'just inside the retention')
      t.equal(await idempotency.find(db, alice, 'old'), undefined, 'just past it')
    })

    t.test('save replaces an expired record of the same key', async (t) => {
      const alice = await newUser(db, 'alice')
      await idempotency.save(db, alice, 'k', 'first', response('{"n":1}'))
      await backdate(db, alice, 'k', '1 hour')
      await idempotency.save(db, alice, 'k', 'second', response('{"n":2}'))
      t.match(await idempotency.find(db, alice, 'k'), { request_hash: 'second', response_body: '{"n":2}' })
    })

    t.test('save drops the user\'s expired keys and keeps live ones and other users\'', async (t) => {
      const alice = await newUser(db, 'alice')
      const bob = await newUser(db, 'bob')
      for (const key of ['expired', 'live']) await idempotency.save(db, alice, key, 'h', response())
      await idempotency.save(db, bob, 'expired', 'h', response())
      await backdate(db, alice, 'expired', '1 second')
      await backdate(db, bob, 'expired', '1 second')
      await idempotency.save(db, alice, 'new', 'h', response())
      t.same(await keysOf(db, alice), ['live', 'new'], 'alice\'s expired key is gone')
      t.same(await keysOf(db, bob), ['expired'], 'bob\'s expired key waits for bob\'s next save')
    })
  })
})
