/**
 * staticQuery and shapedQueries (src/database/static-query.ts): built once a shape, each call
 * binds its own values in the right places (a value used twice, values out of order), the
 * text's own constants kept, absent values left out, and a builder that uses a value as
 * anything but a parameter is refused rather than silently frozen.
 */
import { type Kysely, sql } from 'kysely'
import t from 'tap'
import type { Database } from '../../src/database/types.js'
import { shapedQueries, staticQuery } from '../../src/database/static-query.js'
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
  await t.rejects(shaped(db, true), /must bind each of its 1 values as a parameter/, 'an argument that shapes the text is refused')

  const shaped2 = shapedQueries<{ a?: string | undefined, b?: number | undefined }, { a: string | null, b: number | null, c: boolean }>()
  let shapes = 0
  const build = (db: Kysely<Database>, v: { a?: string | undefined, b?: number | undefined }) => {
    shapes++
    return db.selectNoFrom([
      (v.a === undefined ? sql<string | null>`NULL::text` : sql<string>`${v.a}::text`).as('a'),
      (v.b === undefined ? sql<number | null>`NULL::integer` : sql<number>`${v.b}::integer`).as('b'),
      // A constant parameter of the text, kept as it is.
      sql<boolean>`${true}::boolean`.as('c')
    ])
  }
  const shapeOf = (v: Record<string, unknown>): string => Object.keys(v).filter((k) => v[k] !== undefined).join(',')
  const both = { a: 'x', b: 1 }
  t.same(await shaped2(db, shapeOf(both), both, build), [{ a: 'x', b: 1, c: true }])
  t.same(await shaped2(db, shapeOf({ a: 'y', b: 2 }), { a: 'y', b: 2 }, build), [{ a: 'y', b: 2, c: true }])
  t.same(await shaped2(db, shapeOf({ a: undefined, b: 3 }), { a: undefined, b: 3 }, build), [{ a: null, b: 3, c: true }], 'another shape: an absent value is not bound')
  t.equal(shapes, 2, 'one build a shape')
})
