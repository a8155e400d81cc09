/**
 * task_position_after (db/migrations/202611282100_subtasks_and_order.ts) is
 * fractional-indexing's generateKeyBetween(key, null) in PL/pgSQL, so that a create can pick
 * its position in its one INSERT. It must give exactly the library's keys, or the library
 * would later refuse them (or order them differently) when a move needs a key between two.
 */
import { generateKeyBetween } from 'fractional-indexing'
import { sql } from 'kysely'
import t from 'tap'
import { sharedOwnerDatabase } from '../helpers/database.js'

t.test('task_position_after gives the key fractional-indexing gives after each key', async (t) => {
  const { db } = sharedOwnerDatabase(t)
  const keys: string[] = []
  // Upwards from the first key, through 'az' → 'b00' and 'bzz' → 'c000'.
  let key: string | null = null
  for (let index = 0; index < 4000; index++) keys.push(key = generateKeyBetween(key, null))
  // Downwards into the negative heads ('Zz', …), and keys with fractional parts.
  key = 'a0'
  for (let index = 0; index < 200; index++) keys.push(key = generateKeyBetween(null, key))
  for (const [low, high] of [['a0', 'a1'], ['a0V', 'a1'], ['Zz', 'a0'], ['bzz', 'c000']] as const) {
    let between = generateKeyBetween(low, high)
    for (let index = 0; index < 20; index++) keys.push(between = generateKeyBetween(low, between))
  }
  keys.push('azz', 'bzzz'.slice(0, 3), 'Yzz', 'cz', 'c0zz', 'Zzzy')
  const valid = keys.filter((candidate) => { try { generateKeyBetween(candidate, null); return true } catch { return false } })
  const { rows } = await sql<{ key: string, after: string }>`
    SELECT key, task_position_after(key) AS after FROM unnest(${valid}::text[]) AS key
  `.execute(db)
  const wrong = rows.filter((row) => row.after !== generateKeyBetween(row.key, null))
  t.equal(rows.length, valid.length)
  t.same(wrong.slice(0, 5), [], `all ${valid.length} keys agree`)
})
