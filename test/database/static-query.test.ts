/**
 * staticQuery (src/database/static-query.ts): built once, each call binds its own values in
 * the right places (an argument used twice, arguments out of order), and a builder that uses
 * an argument as anything but a parameter is refused rather than silently frozen.
 */
import { type Kysely, sql } from 'kysely'
import t from 'tap'
import type { Database } from '../../src/database/types.js'
import { staticQuery } from '../../src/database/static-query.js'
import { sharedDb } from '../helpers/database.js'

t.test('staticQuery', async (t) => {
  const db = sharedDb(t)
  let builds = 0
  const pair = staticQuery((db: Kysely<Database>, a: string, b: number) => {
    builds++
    // b before a in the text, and a twice.
    return db.selectNoFrom([sql<number>`${b}::integer`.as('b'), sql<string>`${a}::text`.as('a'), sql<string>`${a}::text`.as('again')])
  })
  t.same(await pair(db, 'x', 1), [{ b: 1, a: 'x', again: 'x' }])
  t.same(await pair(db, 'y', 2), [{ b: 2, a: 'y', again: 'y' }], 'new values, same statement')
  t.equal(builds, 1, 'built once')

  const shaped = staticQuery((db: Kysely<Database>, flag: boolean) => db.selectNoFrom(flag ? sql<number>`1`.as('n') : sql<number>`2`.as('n')))
  await t.rejects(shaped(db, true), /must bind each of its 1 arguments as a parameter/, 'an argument that shapes the text is refused')
})
