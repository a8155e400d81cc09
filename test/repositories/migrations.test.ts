/** Migrations apply, revert and apply again, on a database of their own. */
import { sql } from 'kysely'
import t from 'tap'
import { createMigrator, migrateDown, migrateToLatest } from '../../src/database/migrate.js'
import { isolatedDatabase } from '../helpers/database.js'

t.test('migrations', async (t) => {
  const { db, url } = await isolatedDatabase(t)
  const tables = async (): Promise<string[]> => (await sql<{ tablename: string }>`
    SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%' ORDER BY tablename
  `.execute(db)).rows.map((r) => r.tablename)

  t.test('the template is at the latest migration', async (t) => {
    const pending = (await createMigrator(db).getMigrations()).filter((m) => m.executedAt === undefined)
    t.same(pending, [])
    t.same(await migrateToLatest(db, url), [], 'nothing left to apply')
  })

  t.test('the tasks\' search indexes keep no pending list, so a search never reads other users\' unmerged writes', async (t) => {
    const { rows } = await sql<{ index: string, options: string[] | null }>`
      SELECT relname AS index, reloptions AS options FROM pg_class
      WHERE relname IN ('tasks_user_search_idx', 'tasks_user_tags_idx') ORDER BY relname
    `.execute(db)
    t.same(rows, [
      { index: 'tasks_user_search_idx', options: ['fastupdate=off'] },
      { index: 'tasks_user_tags_idx', options: ['fastupdate=off'] }
    ])
  })

  t.test('each migration reverts cleanly and applies again', async (t) => {
    const all = await createMigrator(db).getMigrations()
    for (let i = 0; i < all.length; i++) await migrateDown(db)
    t.same(await tables(), [])
    t.same(await migrateToLatest(db, url), all.map((m) => m.name))
    t.ok((await tables()).includes('tasks'))
  })
})
