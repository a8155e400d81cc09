/**
 * The caller_tasks view (db/migrations/202611290300_caller_tasks_view.ts), through which word
 * and tag search read tasks: as the service works (role todo_app, each statement naming its
 * caller), it shows the caller's tasks and nobody else's, nothing to a statement that names
 * nobody, cannot be written through, and has exactly the columns of tasks (a migration that
 * adds one must recreate the view). Search through the repository finds the caller's matches,
 * never another user's with the same word.
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import t from 'tap'
import * as tasks from '../../src/repositories/tasks.js'
import { sharedDb, sharedServiceDatabase } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

t.test('caller_tasks', async (t) => {
  const owner = sharedDb(t)
  const service = sharedServiceDatabase(t)
  const word = `w${randomUUID().slice(0, 8)}`
  const alice = newUserId('alice')
  const bob = newUserId('bob')
  for (const user of [alice, bob]) {
    await owner.insertInto('users').values({ id: user, email: null, name: user }).execute()
    await owner.insertInto('tasks').values([
      { user_id: user, title: `${user} ${word}`, tags: ['shared-tag'] },
      { user_id: user, title: `${user} other` }
    ]).execute()
  }

  t.test('shows the caller\'s tasks only', async (t) => {
    for (const user of [alice, bob]) {
      const rows = await service.forUser(user).selectFrom('caller_tasks').select('user_id').execute()
      t.same([...new Set(rows.map((row) => row.user_id))], [user], `${user.split('-')[0] ?? ''} sees only their own`)
      t.equal(rows.length, 2)
    }
    const { rows } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM caller_tasks`.execute(service.db)
    t.equal(rows[0]?.n, 0, 'a statement naming nobody sees nothing')
  })

  t.test('cannot be written through', async (t) => {
    const db = service.forUser(alice)
    await t.rejects(sql`UPDATE caller_tasks SET title = 'changed'`.execute(db), { code: '42501' })
    await t.rejects(sql`DELETE FROM caller_tasks`.execute(db), { code: '42501' })
    await t.rejects(sql`INSERT INTO caller_tasks (user_id, title) VALUES (${alice}, 'x')`.execute(db), { code: '42501' })
    const { rows } = await sql<{ title: string }>`SELECT title FROM tasks WHERE user_id = ${alice}`.execute(owner)
    t.same(rows.map((row) => row.title).sort(), [`${alice} ${word}`, `${alice} other`].sort(), 'nothing changed')
  })

  t.test('has exactly the columns of tasks', async (t) => {
    const columns = async (table: string): Promise<string[]> => (await sql<{ name: string, type: string }>`
      SELECT column_name AS name, data_type AS type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position
    `.execute(owner)).rows.map((row) => `${row.name} ${row.type}`)
    t.same(await columns('caller_tasks'), await columns('tasks'))
  })

  t.test('search and tag filters find the caller\'s matches, never another user\'s', async (t) => {
    const query = { status: 'all', sort: 'created_at', order: 'desc', limit: 50 } as const
    for (const [user, other] of [[alice, bob], [bob, alice]] as const) {
      const db = service.forUser(user)
      const byWord = await tasks.list(db, user, { ...query, q: word })
      t.same(byWord.rows.map((row) => row.title), [`${user} ${word}`])
      const byTag = await tasks.list(db, user, { ...query, tag: 'shared-tag' })
      t.same(byTag.rows.map((row) => row.title), [`${user} ${word}`])
      // Handed the other user's id by mistake, the view still answers for the caller.
      const mistaken = await tasks.list(db, other, { ...query, q: word })
      t.same(mistaken.rows, [], 'another user\'s id finds nothing')
    }
  })
})
