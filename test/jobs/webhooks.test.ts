/**
 * Webhook delivery (API.md, Webhooks), end to end inside the process: the real app and its
 * delivery worker on a database of its own (each test: no other test's worker claims its
 * deliveries), receivers on 127.0.0.1 (node:http servers here), host names resolved by the
 * test. Signed POSTs verified with the SDK, retries, auto-disable, cancellation, the 10 s
 * timeout, no redirects, DNS rebinding refused at delivery, and no delivery for a change
 * that rolled back.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { verifyWebhook } from '../../src/client/index.js'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import type { ResolveHost } from '../../src/jobs/webhook-targets.js'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { isolatedDatabase } from '../helpers/database.js'
import { createTask, newUser, type TestUser } from '../helpers/factories.js'
import { type Receiver, resolveTo, startReceiver } from '../helpers/webhooks.js'
import { eventually, sleep } from '../helpers/waiting.js'

interface Setup {
  app: FastifyInstance
  db: Awaited<ReturnType<typeof isolatedDatabase>>['db']
  user: TestUser
}

async function setup (t: Test, env: Record<string, string> = {}, resolve: ResolveHost = resolveTo('127.0.0.1')): Promise<Setup> {
  const { url, db } = await isolatedDatabase(t)
  const database = openDatabase({ url, poolMax: 5, role: SERVICE_ROLE })
  t.teardown(async () => { await database.destroy() })
  const app = await buildTestApp(t, {
    database,
    env: { JOB_CONCURRENCY: '5', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_DELAYS_S: '1,1', ...env },
    webhookResolve: resolve
  })
  return { app, db, user: newUser('hooks') }
}

async function createWebhook (t: Test, { app, user }: Setup, url: string, events: string[] = ['*']): Promise<Record<string, any>> {
  const response = await inject(t, app, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url, events } })
  t.equal(response.statusCode, 201, 'webhook created')
  return response.json()
}

async function deliveries (t: Test, { app, user }: Setup, webhookId: string): Promise<Array<Record<string, any>>> {
  const response = await inject(t, app, { method: 'GET', url: `/api/me/webhooks/${webhookId}/deliveries`, headers: user.headers })
  t.equal(response.statusCode, 200)
  return response.json().items
}

t.test('a change is POSTed, signed, within 5 seconds of its commit', async (t) => {
  const s = await setup(t)
  const receiver = await startReceiver(t)
  const hook = await createWebhook(t, s, receiver.url())
  const onlyCategories = await startReceiver(t)
  await createWebhook(t, s, onlyCategories.url(), ['category.created'])
  const committed = Date.now()
  const task = await createTask(t, s.app, s.user, { title: 'Tell the calendar' })
  const [delivery] = await receiver.waitFor(1, 5_000)
  if (delivery === undefined) throw new Error('unreachable')
  t.ok(delivery.at - committed < 5_000, `delivered ${delivery.at - committed} ms after the commit`)
  t.equal(delivery.headers['content-type'], 'application/json')
  t.match(delivery.headers['webhook-id'], /^[0-9]{20}$/)
  t.match(delivery.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+={0,2}$/)
  t.ok(Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000) < 10, 'webhook-timestamp is now, in Unix seconds')
  const event = await verifyWebhook(hook.secret, delivery.headers as Record<string, string>, delivery.body)
  t.match(event, { id: delivery.headers['webhook-id'], type: 'task.created', data: { id: task.id, title: 'Tell the calendar' } }, 'verified by the SDK: the event JSON')
  await t.rejects(verifyWebhook(hook.secret, delivery.headers as Record<string, string>, delivery.body.replace('calendar', 'attacker')), 'a changed body does not verify')
  const log = await eventually('the attempt is logged', async () => await deliveries(t, s, hook.id), (items) => items.length === 1)
  t.match(log, [{ event_id: event.id, attempt: 1, status_code: 204, error: null, next_attempt_at: null }])
  t.ok(log[0]?.duration_ms >= 0)
  await sleep(1_500)
  t.equal(onlyCategories.received.length, 0, 'a webhook for other event types receives nothing')
  const queued = await sql<{ n: string }>`SELECT count(*) AS n FROM webhook_deliveries`.execute(s.db)
  t.equal(Number(queued.rows[0]?.n), 0, 'nothing left in the queue')
})

t.test('failed attempts are retried after the configured delays with the same webhook-id, then the webhook is disabled with a reason', async (t) => {
  const s = await setup(t)
  const receiver = await startReceiver(t, (_request, response) => { response.writeHead(500).end('no') })
  const hook = await createWebhook(t, s, receiver.url())
  await createTask(t, s.app, s.user)
  const attempts = await receiver.waitFor(3, 15_000)
  t.equal(new Set(attempts.map((a) => a.headers['webhook-id'])).size, 1, 'every attempt carries the same webhook-id')
  for (let i = 1; i < 3; i++) {
    const gap = (attempts[i]?.at ?? 0) - (attempts[i - 1]?.at ?? 0)
    // Not before its delay (the promise); the upper bound only catches a retry that never came.
    t.ok(gap >= 950 && gap < 10_000, `retry ${i} came ${gap} ms after the failed attempt (delay 1 s)`)
  }
  const disabled = await eventually('the webhook is disabled', async () =>
    (await inject(t, s.app, { method: 'GET', url: `/api/me/webhooks/${hook.id as string}`, headers: s.user.headers })).json(), (w) => w.enabled === false)
  t.match(disabled.disabled_reason, /3 attempts .* failed .*HTTP 500/)
  const log = await deliveries(t, s, hook.id)
  t.match(log, [{ attempt: 3, status_code: 500, next_attempt_at: null }, { attempt: 2, status_code: 500 }, { attempt: 1, status_code: 500 }])
  t.ok(log[1]?.next_attempt_at !== null && log[2]?.next_attempt_at !== null, 'earlier attempts said when the next was due')
  await createTask(t, s.app, s.user)
  await sleep(2_500)
  t.equal(receiver.received.length, 3, 'nothing is delivered while disabled')
  const reenabled = await inject(t, s.app, { method: 'PATCH', url: `/api/me/webhooks/${hook.id as string}`, headers: s.user.headers, payload: { enabled: true } })
  t.match(reenabled.json(), { enabled: true, disabled_reason: null })
  await sleep(2_000)
  t.equal(receiver.received.length, 3, 'events of the disabled time are not delivered after enabling')
})

t.test('disabling by PATCH cancels pending retries', async (t) => {
  // Delays long enough that the PATCH comes before the retry even on a slow machine.
  const s = await setup(t, { WEBHOOK_RETRY_DELAYS_S: '6,6' })
  const receiver = await startReceiver(t, (_request, response) => { response.writeHead(503).end() })
  const hook = await createWebhook(t, s, receiver.url())
  await createTask(t, s.app, s.user)
  const [first] = await eventually('the first attempt is logged', async () => await deliveries(t, s, hook.id), (items) => items.length === 1)
  t.ok(first?.next_attempt_at, 'a retry is due')
  const patched = await inject(t, s.app, { method: 'PATCH', url: `/api/me/webhooks/${hook.id as string}`, headers: s.user.headers, payload: { enabled: false } })
  t.match(patched.json(), { enabled: false, disabled_reason: null })
  t.match(await deliveries(t, s, hook.id), [{ attempt: 1, next_attempt_at: null }], 'its next_attempt_at is now null')
  t.same((await s.db.selectFrom('webhook_deliveries').select('event_seq').execute()), [], 'nothing is owed any more')
  await sleep(7_000)
  t.equal(receiver.received.length, 1, 'the retry is never made')
})

t.test('deleting a webhook cancels its pending retries', async (t) => {
  const s = await setup(t, { WEBHOOK_RETRY_DELAYS_S: '5' })
  const receiver = await startReceiver(t, (_request, response) => { response.writeHead(500).end() })
  const hook = await createWebhook(t, s, receiver.url())
  await createTask(t, s.app, s.user)
  await receiver.waitFor(1, 5_000)
  await eventually('the first attempt is logged', async () => await deliveries(t, s, hook.id), (items) => items.length === 1)
  t.equal((await inject(t, s.app, { method: 'DELETE', url: `/api/me/webhooks/${hook.id as string}`, headers: s.user.headers })).statusCode, 204)
  t.same((await s.db.selectFrom('webhook_deliveries').select('event_seq').execute()), [], 'nothing is owed any more')
  await sleep(6_500)
  t.equal(receiver.received.length, 1, 'no retry after deletion')
})

t.test('no status line within 10 s is a timeout', async (t) => {
  const s = await setup(t, { WEBHOOK_RETRY_DELAYS_S: '60' })
  const receiver = await startReceiver(t, () => { /* never answers */ })
  const hook = await createWebhook(t, s, receiver.url())
  await createTask(t, s.app, s.user)
  const [attempt] = await eventually('the attempt times out', async () => await deliveries(t, s, hook.id), (items) => items.length === 1, 20_000)
  t.match(attempt, { attempt: 1, status_code: null, error: 'timeout' })
  t.ok(attempt?.duration_ms >= 9_900 && attempt?.duration_ms < 12_000, `after ${String(attempt?.duration_ms)} ms`)
})

t.test('a redirect is not followed: it is a failed attempt', async (t) => {
  const s = await setup(t, { WEBHOOK_RETRY_DELAYS_S: '60' })
  const receiver = await startReceiver(t, (_request, response) => { response.writeHead(307, { location: '/elsewhere' }).end() })
  const hook = await createWebhook(t, s, receiver.url())
  await createTask(t, s.app, s.user)
  const [attempt] = await eventually('the attempt is logged', async () => await deliveries(t, s, hook.id), (items) => items.length === 1)
  t.match(attempt, { status_code: 307, error: null })
  t.ok(attempt?.next_attempt_at, 'retried later')
  await sleep(500)
  t.same(receiver.received.map((r) => r.path), ['/hook'], '/elsewhere was never asked')
})

t.test('a long answer is read up to 64 KiB, then the connection is closed', async (t) => {
  const s = await setup(t)
  const receiver = await startReceiver(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.write('x'.repeat(128 * 1024)) // and never ends
  })
  const hook = await createWebhook(t, s, receiver.url())
  await createTask(t, s.app, s.user)
  const [attempt] = await eventually('the attempt is logged', async () => await deliveries(t, s, hook.id), (items) => items.length === 1)
  t.match(attempt, { status_code: 200, error: null, next_attempt_at: null }, 'delivered: the status decides')
  t.ok(attempt?.duration_ms < 5_000, `closed after ${String(attempt?.duration_ms)} ms, not at the 10 s limit`)
})

t.test('at delivery, a name that now resolves to loopback is refused (DNS rebinding)', async (t) => {
  let lookups = 0
  const rebinding: ResolveHost = async () => {
    lookups++
    return [{ address: lookups === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 }]
  }
  const s = await setup(t, { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false', WEBHOOK_RETRY_DELAYS_S: '60' }, rebinding)
  const receiver: Receiver = await startReceiver(t)
  const hook = await createWebhook(t, s, `https://rebind.test:${receiver.port}/hook`)
  await createTask(t, s.app, s.user)
  const [attempt] = await eventually('the attempt is logged', async () => await deliveries(t, s, hook.id), (items) => items.length === 1)
  t.match(attempt, { status_code: null, error: 'refused-address' })
  t.ok(lookups >= 2, 'the name was resolved again at delivery')
  t.equal(receiver.received.length, 0, 'nothing reached 127.0.0.1')
})

t.test('a change that rolls back queues no delivery; one that commits does', async (t) => {
  const s = await setup(t)
  const receiver = await startReceiver(t)
  await createWebhook(t, s, receiver.url())
  const batch = await inject(t, s.app, {
    method: 'POST',
    url: '/api/me/batch',
    headers: s.user.headers,
    payload: { atomic: true, operations: [{ op: 'create_task', body: { title: 'rolled back' } }, { op: 'update_task', id: randomUUID(), body: { title: 'missing' } }] }
  })
  t.equal(batch.statusCode, 200)
  t.equal(batch.json().committed, false, 'the atomic batch failed and stored nothing')
  await sleep(2_000)
  t.equal(receiver.received.length, 0, 'nothing delivered for the rolled-back create')
  await createTask(t, s.app, s.user, { title: 'kept' })
  const [delivery] = await receiver.waitFor(1, 5_000)
  t.match(JSON.parse(delivery?.body ?? '{}'), { type: 'task.created', data: { title: 'kept' } })
})

t.test('two processes share the queue: each event is delivered once', async (t) => {
  const s = await setup(t)
  // A second app with its own delivery loop on the same database (one pool: the claims are
  // what is shared between processes, and they go through the database alone).
  const second = await buildTestApp(t, {
    database: s.app.database,
    env: { JOB_CONCURRENCY: '5', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
    webhookResolve: resolveTo('127.0.0.1')
  })
  const receiver = await startReceiver(t, (_request, response) => { setTimeout(() => response.writeHead(200).end(), 50) })
  await createWebhook(t, s, receiver.url())
  for (let i = 0; i < 20; i++) await createTask(t, i % 2 === 0 ? s.app : second, s.user, { title: `task ${i}` })
  await receiver.waitFor(20, 15_000)
  await sleep(2_000)
  const ids = receiver.received.map((r) => r.headers['webhook-id'])
  t.equal(ids.length, 20, 'twenty deliveries, no more')
  t.equal(new Set(ids).size, 20, 'each event once')
})
