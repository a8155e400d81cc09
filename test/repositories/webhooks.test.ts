/**
 * The webhook queue and log (repositories/webhooks.ts, migration 202611281300_webhooks), on a
 * database of its own (no delivery worker of another test claims what this one queues):
 * enqueueing in the changing transaction, leases, the 3-day failure window.
 */
import { sql } from 'kysely'
import t from 'tap'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import * as webhooks from '../../src/repositories/webhooks.js'
import { isolatedDatabase } from '../helpers/database.js'
import { newUserId } from '../helpers/tokens.js'

t.test('webhook queue', async (t) => {
  const { url, db: owner } = await isolatedDatabase(t)
  const service = openDatabase({ url, poolMax: 3, role: SERVICE_ROLE })
  t.teardown(async () => { await service.destroy() })
  const userId = newUserId('queue')
  const db = service.forUser(userId)
  await owner.insertInto('users').values({ id: userId, email: null, name: null }).execute()
  const hook = await webhooks.insert(db, userId, { url: 'https://hooks.example.com/x', events: ['task.created'], description: null, secret: 'whsec_' + Buffer.alloc(24).toString('base64') })
  if (hook === 'limit') throw new Error('unreachable')
  const queued = async (): Promise<number> => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM webhook_deliveries WHERE user_id = ${userId}`.execute(owner)).rows[0]?.n)

  t.test('a change that rolls back queues nothing; one that commits queues a delivery for each matching webhook', async (t) => {
    await t.rejects(db.transaction().execute(async (trx) => {
      await trx.insertInto('tasks').values({ user_id: userId, title: 'rolled back' } as never).execute()
      throw new Error('roll back')
    }))
    t.equal(await queued(), 0)
    await db.insertInto('tasks').values({ user_id: userId, title: 'kept' } as never).execute()
    t.equal(await queued(), 1)
    await db.insertInto('categories').values({ user_id: userId, name: 'Not subscribed' } as never).execute()
    t.equal(await queued(), 1, 'category.created is not among its events')
  })

  /** The queue's jobs for this user's deliveries (its table: the public view has no payload). */
  const jobs = async (): Promise<Array<{ key: string, run_at: string, payload: Record<string, string> }>> => (await sql<{ key: string, run_at: string, payload: Record<string, string> }>`
    SELECT key, run_at, payload FROM graphile_worker._private_jobs WHERE payload->>'user_id' = ${userId} ORDER BY id
  `.execute(owner)).rows

  t.test('each delivery owed has its job, added in the same transaction, naming the delivery and nothing else', async (t) => {
    const [delivery] = (await sql<{ event_seq: string }>`SELECT event_seq::text FROM webhook_deliveries WHERE user_id = ${userId}`.execute(owner)).rows
    t.match(await jobs(), [{ key: `webhook-delivery:${hook.id}:${delivery?.event_seq ?? ''}`, payload: { user_id: userId, webhook_id: hook.id, event_seq: delivery?.event_seq } }])
    t.same(Object.keys((await jobs())[0]?.payload ?? {}).sort(), ['event_seq', 'user_id', 'webhook_id'])
  })

  t.test('the service\'s role cannot add a job for a delivery that is not owed, nor reach the queue\'s tables', async (t) => {
    await t.rejects(sql`SELECT schedule_webhook_delivery(${userId}, ${hook.id}::uuid, 999999, now())`.execute(db), /no delivery of event 999999/)
    await t.rejects(sql`SELECT count(*) FROM graphile_worker.jobs`.execute(db), /permission denied/)
  })

  t.test('failures for longer than the window disable the webhook even with retries left', async (t) => {
    const [job] = await sql<{ event_seq: string }>`SELECT event_seq::text FROM webhook_deliveries WHERE user_id = ${userId}`.execute(owner).then((r) => r.rows)
    const policy = { delaysS: [5, 30, 120], failureWindowS: 3 * 24 * 3600 }
    const failure = { eventSeq: job?.event_seq ?? '', attempt: 1, startedAt: new Date(), statusCode: 500, error: null, durationMs: 12, delivered: false }
    const before = Date.now()
    t.equal(await webhooks.recordAttempt(db, userId, hook.id, failure, policy), 'retry')
    const [retry] = await jobs()
    t.ok(retry !== undefined && Date.parse(retry.run_at) >= before + 5_000 - 50, 'the retry\'s job is due 5 s after the attempt')
    await sql`UPDATE webhooks SET failing_since = now() - interval '3 days 1 minute' WHERE id = ${hook.id}`.execute(owner)
    t.equal(await webhooks.recordAttempt(db, userId, hook.id, { ...failure, attempt: 2 }, policy), 'disabled')
    const row = await webhooks.findById(db, userId, hook.id)
    t.match(row, { enabled: false, disabled_reason: /failed for 72 hours/ })
    t.equal(await queued(), 0, 'its queue is empty')
    const log = await webhooks.listAttempts(db, userId, hook.id)
    t.same(log.map((a) => a.attempt), [2, 1])
    t.equal(log[0]?.next_attempt_at, null, 'the last attempt has no next')
    t.not(log[1]?.next_attempt_at, null, 'the first still says when its retry (the second) was due')
  })

  t.test('another user sees none of it', async (t) => {
    const other = newUserId('other')
    t.same(await webhooks.list(service.forUser(other), userId), [], 'row-level security: another user named in the statements reads nothing')
  })
})
