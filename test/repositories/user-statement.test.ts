/**
 * What src/database/user-statement.ts relies on in pg, checked against the real driver and a
 * real server, so that a pg upgrade that changes any of it fails here, loudly, rather than in
 * production: pg is pinned exactly; its exported Result and utils.prepareValue exist; a
 * Submittable's pipeline of two statements under one Sync answers with the second's rows,
 * types, row counts and errors; named statements are prepared once per connection and are
 * prepared again after a pipeline failed part-way.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import { sharedDb, sharedUrl } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

t.test('pg is the version this module was written against, and exports what it uses', async (t) => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
  const installed = (JSON.parse(readFileSync(new URL('../../node_modules/pg/package.json', import.meta.url), 'utf8')) as { version: string }).version
  t.match(manifest.dependencies.pg, /^\d+\.\d+\.\d+$/, 'package.json pins pg exactly (no range): re-run this file before moving it')
  t.equal(installed, manifest.dependencies.pg, 'the installed pg is the pinned one')
  t.type((pg as unknown as { Result: unknown }).Result, 'function', 'pg.Result')
  t.type((pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue, 'function', 'pg.utils.prepareValue')
})

t.test('statements sent as a user', async (t) => {
  const owner = sharedDb(t)
  // One connection: every statement below lands where the earlier ones prepared theirs.
  const handle = openDatabase({ url: sharedUrl(), poolMax: 1, role: SERVICE_ROLE })
  t.teardown(async () => { await handle.destroy() })
  const userId = newUserId('stmt')
  await owner.insertInto('users').values({ id: userId, email: null, name: null }).execute()
  const db = handle.forUser(userId)

  t.test('return the rows of the statement, decoded with the service\'s type parsers', async (t) => {
    const { rows } = await sql<{ n: number, b: boolean, tags: string[], at: string, none: null, who: string }>`
      SELECT ${41}::int + 1 AS n, ${true}::boolean AS b, ${['a', 'b,c', 'd"e']}::text[] AS tags,
             ${'2026-01-10T09:30:00.12Z'}::timestamptz AS at, ${null}::text AS none,
             current_setting('app.user_id') AS who
    `.execute(db)
    t.same(rows, [{ n: 42, b: true, tags: ['a', 'b,c', 'd"e'], at: '2026-01-10T09:30:00.120Z', none: null, who: userId }])
  })

  t.test('report affected rows for writes, and no rows for a statement that returns none', async (t) => {
    const id = randomUUID()
    const inserted = await db.insertInto('tasks').values({ user_id: userId, id, title: 'one' }).executeTakeFirst()
    t.equal(inserted.numInsertedOrUpdatedRows, 1n)
    const updated = await db.updateTable('tasks').set({ title: 'two' }).where('user_id', '=', userId).executeTakeFirst()
    t.equal(updated.numUpdatedRows, 1n)
    const none = await db.updateTable('tasks').set({ title: 'three' }).where('id', '=', randomUUID()).executeTakeFirst()
    t.equal(none.numUpdatedRows, 0n)
    const deleted = await db.deleteFrom('tasks').where('id', '=', id).executeTakeFirst()
    t.equal(deleted.numDeletedRows, 1n)
  })

  t.test('reject with PostgreSQL\'s error, SQLSTATE and constraint included', async (t) => {
    const id = randomUUID()
    await db.insertInto('tasks').values({ user_id: userId, id, title: 'x' }).execute()
    await t.rejects(db.insertInto('tasks').values({ user_id: userId, id, title: 'again' }).execute(), { code: '23505', constraint: 'tasks_pkey' })
    await t.rejects(sql`SELECT no_such_column FROM tasks WHERE user_id = ${userId}`.execute(db), { code: '42703' })
    t.equal((await db.selectFrom('tasks').select('id').where('id', '=', id).execute()).length, 1, 'the connection works after both')
  })

  t.test('reject a value pg cannot encode before sending anything; the connection stays usable', async (t) => {
    await t.rejects(sql`SELECT ${{ count: 1n }}::jsonb AS v`.execute(db), /BigInt/)
    const { rows } = await sql<{ v: number }>`SELECT ${7}::int AS v`.execute(db)
    t.same(rows, [{ v: 7 }], 'the one connection answers the next statement')
  })

  t.test('reject, without crashing the process, when the server ends the connection mid-statement', async (t) => {
    const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)
    const pid = rows[0]?.pid as number
    // Its outcome is taken at once: it fails while the termination is still being sent.
    const sleeping = sql`SELECT pg_sleep(5)`.execute(db).then(() => undefined, (error: unknown) => error)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await sql`SELECT pg_terminate_backend(${pid})`.execute(owner)
    t.match(await sleeping, { code: '57P01' }, 'the statement fails with the server\'s reason')
    const after = await sql<{ v: number }>`SELECT ${8}::int AS v`.execute(db)
    t.same(after.rows, [{ v: 8 }], 'the pool replaces the broken connection')
  })

  t.test('prepare each text once per connection, and again after a failed pipeline', async (t) => {
    const prepared = async (): Promise<string[]> => {
      const { rows } = await sql<{ name: string }>`SELECT name FROM pg_prepared_statements WHERE name LIKE ${'u%'} ORDER BY name`.execute(db)
      return rows.map((r) => r.name)
    }
    const probe = async (value: number): Promise<unknown> => (await sql<{ v: number }>`SELECT ${value}::int AS v, ${'probe'}::text AS tag`.execute(db)).rows[0]
    await probe(1)
    const once = await prepared()
    await probe(2)
    await probe(3)
    t.same(await prepared(), once, 'running it again prepares nothing new')
    // Parsed, then failed when run (division by zero): the name may or may not exist now.
    const failing = async (): Promise<unknown> => await sql`SELECT 1 / ${0}::int AS v, ${'fail'}::text AS tag`.execute(db)
    await t.rejects(failing(), { code: '22012' })
    await t.rejects(failing(), { code: '22012' }, 'the same text again: closed and parsed again, never "already exists"')
    t.same(await probe(4), { v: 4, tag: 'probe' })
  })
})
