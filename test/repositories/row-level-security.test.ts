/**
 * Row-level security (db/migrations/202611240800_row_level_security.ts) holds under the
 * repositories: statements deliberately written without their user filter, or handed another
 * user's id, run the way the service runs them (role todo_app, each statement naming the
 * bound caller: src/database/dialect.ts), reach only the caller's rows. The owner's view of
 * the same tables is the control: it sees both users.
 */
import { randomUUID } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE, serviceRoleLoopholes } from '../../src/database/service-role.js'
import type { Database } from '../../src/database/types.js'
import { SET_USER_SQL } from '../../src/database/user-statement.js'
import * as categories from '../../src/repositories/categories.js'
import * as idempotency from '../../src/repositories/idempotency.js'
import * as tasks from '../../src/repositories/tasks.js'
import * as users from '../../src/repositories/users.js'
import { sharedDb, sharedServiceDatabase, sharedUrl } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

interface Fixture { userId: string, categoryId: string, taskId: string }

async function seedUser (owner: Kysely<Database>, label: string): Promise<Fixture> {
  const userId = newUserId(label)
  const categoryId = randomUUID()
  const taskId = randomUUID()
  await owner.insertInto('users').values({ id: userId, email: null, name: label }).execute()
  await owner.insertInto('categories').values({ user_id: userId, id: categoryId, name: `${label}'s`, color: null }).execute()
  await owner.insertInto('tasks').values({ user_id: userId, id: taskId, title: `${label}'s task`, category_id: categoryId }).execute()
  await owner.insertInto('idempotency_keys').values({
    user_id: userId, key: 'k', request_hash: 'h', response_status: 201, response_headers: '{}', response_body: '{}'
  }).execute()
  return { userId, categoryId, taskId }
}

const rlsViolation = { code: '42501', message: /violates row-level security policy/ }

t.test('row-level security', async (t) => {
  const owner = sharedDb(t)
  const database = sharedServiceDatabase(t)
  const service = database.db
  const asUser = async <T>(userId: string, work: (db: Kysely<Database>) => Promise<T>): Promise<T> => await work(database.forUser(userId))
  const alice = await seedUser(owner, 'alice')
  const bob = await seedUser(owner, 'bob')
  const both = [alice.userId, bob.userId]

  t.test('queries without a user filter see only the caller\'s rows', async (t) => {
    const unfiltered = async (db: Kysely<Database>): Promise<Record<string, string[]>> => ({
      users: (await db.selectFrom('users').select('id').execute()).map((r) => r.id),
      categories: (await db.selectFrom('categories').select('user_id').execute()).map((r) => r.user_id),
      tasks: (await db.selectFrom('tasks').select('user_id').execute()).map((r) => r.user_id),
      idempotency_keys: (await db.selectFrom('idempotency_keys').select('user_id').execute()).map((r) => r.user_id)
    })
    const asOwner = await unfiltered(owner)
    for (const [table, ids] of Object.entries(asOwner)) {
      t.ok(both.every((id) => ids.includes(id)), `control: the owner sees both users' ${table}`)
    }
    const asAlice = await asUser(alice.userId, unfiltered)
    for (const [table, ids] of Object.entries(asAlice)) {
      t.same(ids, [alice.userId], `as alice: ${table} holds only alice's row`)
    }
  })

  t.test('writes without a user filter touch only the caller\'s rows', async (t) => {
    const renamed = await asUser(alice.userId, async (db) =>
      await db.updateTable('tasks').set({ title: 'renamed by a buggy statement' }).executeTakeFirst())
    t.equal(renamed.numUpdatedRows, 1n, 'one row updated: alice\'s')
    const bobsTask = await owner.selectFrom('tasks').select('title').where('user_id', '=', bob.userId).executeTakeFirstOrThrow()
    t.equal(bobsTask.title, 'bob\'s task', 'bob\'s task keeps its title')

    const byBobsId = await asUser(alice.userId, async (db) =>
      await db.deleteFrom('tasks').where('id', '=', bob.taskId).executeTakeFirst())
    t.equal(byBobsId.numDeletedRows, 0n, 'bob\'s task cannot be deleted by its id alone')
    t.ok(await owner.selectFrom('tasks').select('id').where('id', '=', bob.taskId).executeTakeFirst(), 'and is still there')
  })

  t.test('rows cannot be written for another user', async (t) => {
    await t.rejects(asUser(alice.userId, async (db) => {
      await db.insertInto('tasks').values({ user_id: bob.userId, title: 'planted' }).execute()
    }), rlsViolation, 'inserting a task for bob is refused')
    await t.rejects(asUser(alice.userId, async (db) => {
      await db.updateTable('tasks').set({ user_id: bob.userId }).where('id', '=', alice.taskId).execute()
    }), rlsViolation, 'handing alice\'s task to bob is refused')
    t.equal((await owner.selectFrom('tasks').select('user_id').where('id', '=', alice.taskId).executeTakeFirstOrThrow()).user_id, alice.userId)
  })

  t.test('a repository handed another user\'s id by mistake reaches none of their rows', async (t) => {
    // The bound caller is alice; every call below names bob, as a buggy handler might.
    const asAlice = database.forUser(alice.userId)
    t.equal(await tasks.findById(asAlice, bob.userId, bob.taskId), undefined, 'bob\'s task is not found')
    t.same((await tasks.list(asAlice, bob.userId, { status: 'all', sort: 'created_at', order: 'desc', limit: 50 })).rows, [], 'bob\'s list is empty')
    t.same(await tasks.update(asAlice, bob.userId, bob.taskId, { title: 'hijacked' }), { miss: 'missing' }, 'bob\'s task cannot be changed')
    t.same(await tasks.trash(asAlice, bob.userId, bob.taskId), { miss: 'missing' }, 'nor trashed')
    t.equal(await tasks.restore(asAlice, bob.userId, bob.taskId), undefined, 'nor restored')
    t.equal(await tasks.purge(asAlice, bob.userId, bob.taskId), false, 'nor purged')
    t.equal(await tasks.trashCompleted(asAlice, bob.userId), 0, 'nor cleared')
    t.equal(await categories.findById(asAlice, bob.userId, bob.categoryId), undefined, 'bob\'s category is not found')
    t.equal(await categories.remove(asAlice, bob.userId, bob.categoryId), false, 'nor deleted')
    t.equal(await users.findById(asAlice, bob.userId), undefined, 'bob\'s user row is not found')
    t.equal(await idempotency.find(asAlice, bob.userId, 'k'), undefined, 'bob\'s idempotency record is not found')
    await t.rejects(tasks.insert(asAlice, bob.userId, { title: 'planted', description: null, priority: 'low', due_at: null, due_date: null, time_zone: null, category_id: null, parent_id: null, tags: [], completed: false }), rlsViolation, 'no task can be created for bob')
    const bobsRows = await owner.selectFrom('tasks').select(['title', 'version']).where('user_id', '=', bob.userId).execute()
    t.same(bobsRows, [{ title: 'bob\'s task', version: 1 }], 'bob\'s task is as it was')
    t.ok(await owner.selectFrom('categories').select('id').where('id', '=', bob.categoryId).executeTakeFirst(), 'bob\'s category is still there')
  })

  t.test('outside a user\'s statements the service sees nothing, and the caller never lingers', async (t) => {
    // One connection, so the statement after runs where the setting was made.
    const single = openDatabase({ url: sharedUrl(), poolMax: 1, role: SERVICE_ROLE })
    t.teardown(async () => { await single.destroy() })
    const unnamed = async (): Promise<unknown> => {
      const { rows } = await sql<{ user_id: string | null }>`SELECT current_setting('app.user_id', true) AS user_id`.execute(single.db)
      return rows[0]?.user_id ?? ''
    }
    t.same(await single.db.selectFrom('tasks').select('id').execute(), [], 'no user named: no rows')
    const inside = await single.forUser(alice.userId).selectFrom('tasks').select('id').execute()
    t.equal(inside.length, 1)
    t.same(await single.db.selectFrom('tasks').select('id').execute(), [], 'after the statement the connection names no user again')
    t.equal(await unnamed(), '', 'no setting survives on the connection')
    const inTransaction = await single.forUser(alice.userId).transaction().execute(async (trx) =>
      (await trx.selectFrom('tasks').select('id').execute()).length)
    t.equal(inTransaction, 1, 'a transaction as alice sees her rows')
    t.same(await single.db.selectFrom('tasks').select('id').execute(), [], 'after COMMIT the connection names no user again')
    await t.rejects(single.forUser(alice.userId).transaction().execute(async (trx) => {
      await trx.selectFrom('tasks').select('id').execute()
      throw new Error('boom')
    }), /boom/)
    t.same(await single.db.selectFrom('tasks').select('id').execute(), [], 'nor after ROLLBACK')
    t.equal(await unnamed(), '')
  })

  t.test('a statement sent without the pipeline fails closed', async (t) => {
    const plain = new pg.Pool({ connectionString: sharedUrl(), max: 1, options: `-c role=${SERVICE_ROLE}` })
    t.teardown(async () => { await plain.end() })
    const client = await plain.connect()
    try {
      await client.query(SET_USER_SQL, [alice.userId])
      t.same((await client.query('SELECT id FROM tasks')).rows, [], 'the setting ended with its own statement: no rows, not another user\'s')
    } finally {
      client.release()
    }
  })

  t.test('statements that fail leave the caller named for the next ones', async (t) => {
    const seen = await asUser(alice.userId, async (db) => {
      await t.rejects(sql`SELECT no_such_column FROM tasks`.execute(db), { code: '42703' }, 'refused when parsed')
      await t.rejects(sql`SELECT 1 / (count(*) - count(*)) FROM tasks`.execute(db), { code: '22012' }, 'failed when run')
      return (await db.selectFrom('tasks').select('user_id').execute()).map((r) => r.user_id)
    })
    t.same(seen, [alice.userId])
  })

  t.test('the service role cannot get round the policies', async (t) => {
    t.same(await serviceRoleLoopholes(service), [], 'todo_app: no superuser, no BYPASSRLS, owns no table')
    t.match(await serviceRoleLoopholes(owner), [/superuser/], 'control: the suite\'s owner login would bypass them')
    await t.rejects(sql`ALTER TABLE tasks DISABLE ROW LEVEL SECURITY`.execute(service), { code: '42501' }, 'it cannot turn row security off')
    await t.rejects(sql`DROP POLICY tasks_of_current_user ON tasks`.execute(service), { code: '42501' }, 'nor drop a policy')
    await t.rejects(sql`SELECT * FROM kysely_migration`.execute(service), { code: '42501' }, 'nor read what it was not granted')
  })
})
