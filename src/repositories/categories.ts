/**
 * Categories. Every statement is scoped by the owner's id, which comes second in every
 * signature; a miss or a conflict is a returned value, never an exception.
 */
import { type Kysely, sql } from 'kysely'
import { isUniqueViolation } from '../database/sql-errors.js'
import { atomically } from '../database/transactions.js'
import type { CategoryRow, Database } from '../database/types.js'
import * as events from './events.js'

export type Conflict = 'conflict'
export type Missing = 'missing'
/** A client-chosen id the user already has a category under. */
export type IdTaken = 'id-taken'
const NAME_KEY = 'categories_user_name_key'
/** (user_id, id): the same id for two users is two categories. */
const PRIMARY_KEY = 'categories_pkey'

/** By name, case-insensitively by code point, then id: a stable order. */
export async function list (db: Kysely<Database>, userId: string): Promise<CategoryRow[]> {
  return await db.selectFrom('categories').selectAll()
    .where('user_id', '=', userId)
    .orderBy(sql`lower(name) COLLATE "C"`).orderBy('id')
    .execute()
}

export async function findById (db: Kysely<Database>, userId: string, categoryId: string): Promise<CategoryRow | undefined> {
  return await db.selectFrom('categories').selectAll()
    .where('user_id', '=', userId).where('id', '=', categoryId)
    .executeTakeFirst()
}

/**
 * The first `limit` of the user's categories whose latest change is numbered after `after`,
 * in change order: one range scan of (user_id, change_seq).
 */
export async function changedSince (db: Kysely<Database>, userId: string, after: string, limit: number): Promise<CategoryRow[]> {
  return await db.selectFrom('categories').selectAll()
    .where('user_id', '=', userId).where('change_seq', '>', after)
    .orderBy('change_seq')
    .limit(limit)
    .execute()
}

/**
 * 'conflict' when the user has a category of this name (case-insensitively) already,
 * 'id-taken' when a client-chosen id is one of the user's categories already.
 */
export async function insert (db: Kysely<Database>, userId: string, input: { id?: string | undefined, name: string, color: string | null }): Promise<CategoryRow | Conflict | IdTaken> {
  try {
    return await db.insertInto('categories')
      .values({ user_id: userId, ...(input.id === undefined ? {} : { id: input.id }), name: input.name, color: input.color })
      .returningAll()
      .executeTakeFirstOrThrow()
  } catch (error) {
    if (isUniqueViolation(error, NAME_KEY)) return 'conflict'
    if (isUniqueViolation(error, PRIMARY_KEY)) return 'id-taken'
    throw error
  }
}

/** Changes the given fields; `updated_at` moves only when a value really changes. */
export async function update (db: Kysely<Database>, userId: string, categoryId: string, changes: { name?: string, color?: string | null }): Promise<CategoryRow | Missing | Conflict> {
  const name = changes.name
  const color = changes.color
  try {
    const row = await db.updateTable('categories')
      .set((eb) => {
        const changed = eb.or([
          ...(name === undefined ? [] : [eb('name', 'is distinct from', name)]),
          ...(color === undefined ? [] : [eb('color', 'is distinct from', color)])
        ])
        return {
          ...(name === undefined ? {} : { name }),
          ...(color === undefined ? {} : { color }),
          updated_at: eb.case().when(changed).then(sql<Date>`now()`).else(eb.ref('updated_at')).end()
        }
      })
      .where('user_id', '=', userId).where('id', '=', categoryId)
      .returningAll()
      .executeTakeFirst()
    return row ?? 'missing'
  } catch (error) {
    if (isUniqueViolation(error, NAME_KEY)) return 'conflict'
    throw error
  }
}

/**
 * Deletes the category; its tasks stay, with category_id null and version + 1 (API.md).
 * Returns false when the user has no such category.
 */
export async function remove (db: Kysely<Database>, userId: string, categoryId: string): Promise<boolean> {
  return await atomically(db, async (trx) => {
    // The change counter before any row (events.lockChangeCounter): a task being added to
    // this category by another request either committed before (and is cleared below, as a
    // change) or waits for us and then finds the category gone.
    await events.lockChangeCounter(trx, userId)
    // Lock the category first: a concurrent insert of a task into it waits for us (its
    // foreign key check needs this row) and then fails, instead of slipping in between.
    const found = await trx.selectFrom('categories').select('id')
      .where('user_id', '=', userId).where('id', '=', categoryId)
      .forUpdate()
      .executeTakeFirst()
    if (found === undefined) return false
    // Cleared here rather than by the foreign key's ON DELETE SET NULL, so that the tasks'
    // version and updated_at move too and their ETags change.
    await trx.updateTable('tasks')
      .set((eb) => ({ category_id: null, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
      .where('user_id', '=', userId).where('category_id', '=', categoryId)
      .execute()
    await trx.deleteFrom('categories').where('user_id', '=', userId).where('id', '=', categoryId).execute()
    return true
  })
}
