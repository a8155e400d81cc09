/**
 * The trash purge (src/jobs/retention.ts, migration 202611281000_trash): tasks trashed
 * longer than the retention go for good, for every user, in bounded batches, one purge at a
 * time across processes; younger ones and tasks not in the trash stay. On a database of its
 * own, so that a short retention cannot touch other tests' trash.
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import t from 'tap'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import * as tasks from '../../src/repositories/tasks.js'
import { buildTestApp } from '../helpers/build-app.js'
import { isolatedDatabase } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

t.test('trash purge', async (t) => {
  const { url, db: owner } = await isolatedDatabase(t)
  const service = openDatabase({ url, poolMax: 3, role: SERVICE_ROLE })
  t.teardown(async () => { await service.destroy() })
  const users = [newUserId('a'), newUserId('b')]
  await owner.insertInto('users').values(users.map((id) => ({ id, email: null, name: null }))).execute()

  /** A task of `user`, trashed `ageDays` ago (or not trashed: null). */
  async function taskOf (user: string, ageDays: number | null): Promise<string> {
    const id = randomUUID()
    await owner.insertInto('tasks').values({
      user_id: user,
      id,
      title: 'x',
      deleted_at: ageDays === null ? null : sql<string>`now() - ${ageDays} * interval '1 day'`
    }).execute()
    return id
  }
  const remaining = async (ids: string[]): Promise<string[]> =>
    (await owner.selectFrom('tasks').select('id').where('id', 'in', ids).execute()).map((r) => r.id).sort()

  t.test('purges what is past the retention, for every user, and nothing else', async (t) => {
    const old = [await taskOf(users[0]!, 31), await taskOf(users[1]!, 40), await taskOf(users[1]!, 30.5)]
    const young = [await taskOf(users[0]!, 29), await taskOf(users[1]!, 1)]
    const live = [await taskOf(users[0]!, null)]
    t.equal(await tasks.purgeExpired(service.db, 30, 100), 3, 'the three older than 30 days')
    t.same(await remaining([...old, ...young, ...live]), [...young, ...live].sort())
  })

  t.test('deletes in batches of the given size', async (t) => {
    const old = await Promise.all(Array.from({ length: 5 }, async () => await taskOf(users[0]!, 100)))
    t.equal(await tasks.purgeExpired(service.db, 30, 2), 2)
    t.equal((await remaining(old)).length, 3)
  })

  t.test('is busy, touching nothing, while another purge holds its lock', async (t) => {
    const old = await taskOf(users[0]!, 100)
    const holder = await owner.connection().execute(async (connection) => {
      await sql`BEGIN`.execute(connection)
      await sql`SELECT pg_advisory_xact_lock(hashtext('purge_expired_trash'))`.execute(connection)
      try {
        return await tasks.purgeExpired(service.db, 30, 100)
      } finally {
        await sql`ROLLBACK`.execute(connection)
      }
    })
    t.equal(holder, 'busy')
    t.same(await remaining([old]), [old], 'nothing purged meanwhile')
    t.ok(Number(await tasks.purgeExpired(service.db, 30, 100)) >= 1, 'purged once the lock is free')
    t.same(await remaining([old]), [])
  })

  t.test('leaves each purged task in the change record, for sync', async (t) => {
    const old = await taskOf(users[0]!, 100)
    t.ok(Number(await tasks.purgeExpired(service.db, 30, 100)) >= 1)
    const recorded = await owner.selectFrom('events').select(['type', 'data']).where('entity_id', '=', old).where('type', '=', 'task.purged').execute()
    t.same(recorded, [{ type: 'task.purged', data: { id: old } }])
  })

  t.test('skips a user whose change counter a request holds, and purges them later', async (t) => {
    const old = await taskOf(users[0]!, 100)
    const other = await taskOf(users[1]!, 100)
    const during = await owner.connection().execute(async (connection) => {
      await sql`BEGIN`.execute(connection)
      await sql`SELECT lock_change_counter(${users[0]!})`.execute(connection)
      try {
        return await tasks.purgeExpired(service.db, 30, 100)
      } finally {
        await sql`ROLLBACK`.execute(connection)
      }
    })
    t.equal(during, 1, 'the other user purged, without waiting')
    t.same(await remaining([old, other]), [old])
    t.equal(await tasks.purgeExpired(service.db, 30, 100), 1)
    t.same(await remaining([old]), [])
  })

  t.test('expires events older than SYNC_RETENTION_DAYS plus a day, and no others', async (t) => {
    const task = await taskOf(users[0]!, null)
    const seqs = await owner.selectFrom('events').select('seq').where('entity_id', '=', task).execute()
    await owner.updateTable('events').set({ occurred_at: sql<string>`now() - interval '32 days'` }).where('entity_id', '=', task).execute()
    const young = await taskOf(users[1]!, null)
    const app = await buildTestApp(t, { database: service, env: { SYNC_RETENTION_DAYS: '30', TRASH_PURGE_INTERVAL_MS: '0' } })
    t.ok(seqs.length > 0)
    t.ok(await app.expireEvents() >= 1)
    t.same(await owner.selectFrom('events').select('seq').where('entity_id', '=', task).execute(), [], 'the 32-day-old event went')
    t.equal((await owner.selectFrom('events').select('seq').where('entity_id', '=', young).execute()).length, 1, 'a new one stays')
  })

  t.test('removes event stream registrations that lapsed (their process stopped renewing them), of every user, and no live one', async (t) => {
    const lapsed = [randomUUID(), randomUUID()]
    const live = randomUUID()
    await owner.insertInto('event_streams').values([
      { user_id: users[0]!, id: lapsed[0]!, expires_at: sql<string>`now() - interval '1 minute'` },
      { user_id: users[1]!, id: lapsed[1]!, expires_at: sql<string>`now() - interval '2 days'` },
      { user_id: users[1]!, id: live, expires_at: sql<string>`now() + interval '1 minute'` }
    ]).execute()
    const app = await buildTestApp(t, { database: service, env: { TRASH_PURGE_INTERVAL_MS: '0' } })
    t.equal(await app.purgeLapsedStreams(), 2)
    t.same((await owner.selectFrom('event_streams').select('id').execute()).map((row) => row.id), [live])
    await owner.deleteFrom('event_streams').execute()
  })

  t.test('runs by itself in the service, with a short retention', async (t) => {
    // 0.00002 days is under 2 seconds.
    // The app is only started: its purge timer is what runs.
    await buildTestApp(t, { database: service, env: { TRASH_RETENTION_DAYS: '0.00002', TRASH_PURGE_INTERVAL_MS: '200' } })
    const soon = await taskOf(users[1]!, 1)
    const live = await taskOf(users[1]!, null)
    const fresh = randomUUID()
    await owner.insertInto('tasks').values({ user_id: users[1]!, id: fresh, title: 'just trashed', deleted_at: sql<string>`now()` }).execute()
    const deadline = Date.now() + 15_000
    while ((await remaining([soon, fresh])).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
    t.same(await remaining([soon, fresh]), [], 'both purged by the timer, the fresh one once it aged past the retention')
    t.same(await remaining([live]), [live], 'a task not in the trash stays')
  })
})
