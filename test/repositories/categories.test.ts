/**
 * src/repositories/categories.ts against PostgreSQL. Called on the owner's pool, which row-level
 * security does not confine, so what keeps users apart here is the repository's own scoping.
 */
import { type Kysely, sql } from 'kysely'
import t from 'tap'
import type { Database } from '../../src/database/types.js'
import * as categories from '../../src/repositories/categories.js'
import { sharedDb } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

const LONG_AGO = '2000-01-01T00:00:00.000Z'

async function newUser (db: Kysely<Database>, label: string): Promise<string> {
  const id = newUserId(label)
  await db.insertInto('users').values({ id, email: null, name: label }).execute()
  return id
}

async function inserted (db: Kysely<Database>, userId: string, name: string, color: string | null = null): Promise<Awaited<ReturnType<typeof categories.insert>>> {
  return await categories.insert(db, userId, { name, color })
}

t.test('categories repository', async (t) => {
  const db = sharedDb(t)

  t.test('insert returns the stored category', async (t) => {
    const alice = await newUser(db, 'alice')
    const row = await categories.insert(db, alice, { name: 'Work', color: '#1A2b3C' })
    if (typeof row === 'string') return t.fail(`insert gave ${row}`)
    t.match(row, { user_id: alice, name: 'Work', color: '#1A2b3C' })
    t.match(row.id, /^[0-9a-f-]{36}$/, 'a generated uuid')
    t.equal(row.updated_at, row.created_at, 'created and updated together')
    t.same(await categories.findById(db, alice, row.id), row, 'findById gives the same row')
  })

  t.test('refuses a second category of the same name for one user, in any case', async (t) => {
    const alice = await newUser(db, 'alice')
    t.type(await inserted(db, alice, 'Work'), 'object')
    t.equal(await inserted(db, alice, 'Work'), 'conflict')
    t.equal(await inserted(db, alice, 'wORK'), 'conflict')
    t.equal((await categories.list(db, alice)).length, 1, 'still one category')
  })

  t.test('lets two users use the same name', async (t) => {
    const alice = await newUser(db, 'alice')
    const bob = await newUser(db, 'bob')
    t.type(await inserted(db, alice, 'Home'), 'object')
    t.type(await inserted(db, bob, 'Home'), 'object')
  })

  t.test('lists only the user\'s categories, by lowercase name in code point order', async (t) => {
    const alice = await newUser(db, 'alice')
    const bob = await newUser(db, 'bob')
    await inserted(db, bob, 'Alpha')
    // Inserted out of order; a linguistic collation would put 'ab' before 'a-c', 'ä' beside
    // 'a' and '_under' after the letters.
    for (const name of ['Zed', 'b', 'ä', 'a-c', 'B2', '_under', 'Ab']) await inserted(db, alice, name)
    t.same((await categories.list(db, alice)).map((c) => c.name), ['_under', 'a-c', 'Ab', 'b', 'B2', 'Zed', 'ä'])
    t.same((await categories.list(db, bob)).map((c) => c.name), ['Alpha'])
  })

  t.test('lists nothing for a user without categories', async (t) => {
    t.same(await categories.list(db, await newUser(db, 'carol')), [])
  })

  t.test('insert keeps a client-chosen id, and reports one the user has already as id-taken', async (t) => {
    const alice = await newUser(db, 'alice')
    const bob = await newUser(db, 'bob')
    const id = '7d444840-9dc0-41d1-b245-5ffdce74fad2'
    t.match(await categories.insert(db, alice, { id, name: 'Garden', color: null }), { id, name: 'Garden' })
    t.equal(await categories.insert(db, alice, { id, name: 'Other', color: null }), 'id-taken')
    t.match(await categories.insert(db, bob, { id, name: 'Garden', color: null }), { id, user_id: bob }, 'another user may hold the same id')
  })

  t.test('findById misses an unknown id', async (t) => {
    const alice = await newUser(db, 'alice')
    t.equal(await categories.findById(db, alice, '00000000-0000-0000-0000-000000000000'), undefined)
  })

  t.test('update changes the given fields only', async (t) => {
    const alice = await newUser(db, 'alice')
    const row = await categories.insert(db, alice, { name: 'Work', color: '#000000' })
    if (typeof row === 'string') return t.fail(`insert gave ${row}`)
    t.match(await categories.update(db, alice, row.id, { name: 'Office' }), { name: 'Office', color: '#000000' }, 'name only')
    t.match(await categories.update(db, alice, row.id, { color: '#ffffff' }), { name: 'Office', color: '#ffffff' }, 'color only')
    t.match(await categories.update(db, alice, row.id, { color: null }), { name: 'Office', color: null }, 'null clears the color')
    t.match(await categories.findById(db, alice, row.id), { name: 'Office', color: null }, 'as stored')
  })

  t.test('update moves updated_at only when a value really changes', async (t) => {
    const alice = await newUser(db, 'alice')
    const row = await categories.insert(db, alice, { name: 'Work', color: '#000000' })
    if (typeof row === 'string') return t.fail(`insert gave ${row}`)
    await db.updateTable('categories').set({ updated_at: LONG_AGO }).where('user_id', '=', alice).where('id', '=', row.id).execute()
    t.match(await categories.update(db, alice, row.id, { name: 'Work', color: '#000000' }), { updated_at: LONG_AGO }, 'same values')
    t.match(await categories.update(db, alice, row.id, {}), { updated_at: LONG_AGO }, 'no fields')
    const changed = await categories.update(db, alice, row.id, { color: '#000001' })
    if (typeof changed === 'string') return t.fail(`update gave ${changed}`)
    t.ok(changed.updated_at > LONG_AGO, 'a new color moves it')
    t.equal(changed.created_at, row.created_at, 'created_at never moves')
  })

  t.test('update may change the case of the category\'s own name', async (t) => {
    const alice = await newUser(db, 'alice')
    const row = await categories.insert(db, alice, { name: 'work', color: null })
    if (typeof row === 'string') return t.fail(`insert gave ${row}`)
    t.match(await categories.update(db, alice, row.id, { name: 'Work' }), { name: 'Work' })
  })

  t.test('update refuses the name of another of the user\'s categories', async (t) => {
    const alice = await newUser(db, 'alice')
    await inserted(db, alice, 'Work')
    const home = await categories.insert(db, alice, { name: 'Home', color: null })
    if (typeof home === 'string') return t.fail(`insert gave ${home}`)
    t.equal(await categories.update(db, alice, home.id, { name: 'WORK' }), 'conflict')
    t.match(await categories.findById(db, alice, home.id), { name: 'Home' }, 'unchanged')
  })

  t.test('update misses an unknown id', async (t) => {
    const alice = await newUser(db, 'alice')
    t.equal(await categories.update(db, alice, '00000000-0000-0000-0000-000000000000', { name: 'x' }), 'missing')
  })

  t.test('remove deletes the category once', async (t) => {
    const alice = await newUser(db, 'alice')
    const row = await categories.insert(db, alice, { name: 'Work', color: null })
    if (typeof row === 'string') return t.fail(`insert gave ${row}`)
    t.equal(await categories.remove(db, alice, row.id), true)
    t.equal(await categories.findById(db, alice, row.id), undefined, 'gone')
    t.equal(await categories.remove(db, alice, row.id), false, 'a second remove misses')
    t.type(await inserted(db, alice, 'Work'), 'object', 'its name is free again')
  })

  t.test('another user\'s category is invisible to findById, update and remove', async (t) => {
    const alice = await newUser(db, 'alice')
    const bob = await newUser(db, 'bob')
    const row = await categories.insert(db, alice, { name: 'Private', color: '#123456' })
    if (typeof row === 'string') return t.fail(`insert gave ${row}`)
    t.equal(await categories.findById(db, bob, row.id), undefined, 'findById misses')
    t.equal(await categories.update(db, bob, row.id, { name: 'Taken', color: null }), 'missing', 'update misses')
    t.equal(await categories.remove(db, bob, row.id), false, 'remove misses')
    t.same(await categories.findById(db, alice, row.id), row, 'alice\'s category is untouched')
  })

  t.test('removing a category keeps its tasks, uncategorised, with a new version', async (t) => {
    const alice = await newUser(db, 'alice')
    const work = await categories.insert(db, alice, { name: 'Work', color: null })
    const home = await categories.insert(db, alice, { name: 'Home', color: null })
    if (typeof work === 'string' || typeof home === 'string') return t.fail('insert failed')
    const inWork = await db.insertInto('tasks').values({ user_id: alice, title: 'in work', category_id: work.id, updated_at: LONG_AGO }).returning('id').executeTakeFirstOrThrow()
    const inHome = await db.insertInto('tasks').values({ user_id: alice, title: 'in home', category_id: home.id, updated_at: LONG_AGO }).returning('id').executeTakeFirstOrThrow()
    const loose = await db.insertInto('tasks').values({ user_id: alice, title: 'no category', category_id: null, updated_at: LONG_AGO }).returning('id').executeTakeFirstOrThrow()

    t.equal(await categories.remove(db, alice, work.id), true)
    const task = async (id: string): Promise<unknown> => await db.selectFrom('tasks').select(['user_id', 'category_id', 'version', 'updated_at']).where('user_id', '=', alice).where('id', '=', id).executeTakeFirst()
    const cleared = await task(inWork.id) as { category_id: string | null, version: number, updated_at: string } | undefined
    t.match(cleared, { user_id: alice, category_id: null, version: 2 }, 'the task stays, without its category, one version on (its ETag changes)')
    t.ok(cleared !== undefined && cleared.updated_at > LONG_AGO, 'and its updated_at moves')
    t.same(await task(inHome.id), { user_id: alice, category_id: home.id, version: 1, updated_at: LONG_AGO }, 'a task of another category is untouched')
    t.same(await task(loose.id), { user_id: alice, category_id: null, version: 1, updated_at: LONG_AGO }, 'an uncategorised task is untouched')
  })

  t.test('the schema itself keeps tasks when a category row is deleted directly', async (t) => {
    // The safety net under remove(): ON DELETE SET NULL (category_id) clears the reference
    // only, never user_id, and leaves the version alone.
    const alice = await newUser(db, 'alice')
    const work = await categories.insert(db, alice, { name: 'Work', color: null })
    if (typeof work === 'string') return t.fail(`insert gave ${work}`)
    const task = await db.insertInto('tasks').values({ user_id: alice, title: 'in work', category_id: work.id }).returning('id').executeTakeFirstOrThrow()
    await sql`DELETE FROM categories WHERE user_id = ${alice} AND id = ${work.id}`.execute(db)
    t.match(await db.selectFrom('tasks').select(['user_id', 'category_id', 'version']).where('user_id', '=', alice).where('id', '=', task.id).executeTakeFirst(),
      { user_id: alice, category_id: null, version: 1 })
  })
})
