/**
 * Webhook deliveries survive the service: a retry that falls due while the only process is
 * dead (SIGKILL, no shutdown) is made once it is back, with the same webhook-id; an attempt
 * cut off by a crash is made again by another process once the dead one has lapsed.
 */
import { sql } from 'kysely'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'
import { startReceiver } from '../helpers/webhooks.js'

t.test('a retry due while the service is down is made after it comes back', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const env = {
    DATABASE_URL: url,
    JWT_SECRET: TEST_SECRET,
    MIGRATE_ON_START: 'false',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    // Long enough that the test sees the retry queued and kills the process before it is due.
    WEBHOOK_RETRY_DELAYS_S: '6'
  }
  let status = 500
  const receiver = await startReceiver(t, (_request, response) => { response.writeHead(status).end() })
  const server = await startServer(t, env)
  const headers = { ...bearer(tokenFor(newUserId('restart'))), 'content-type': 'application/json' }
  const created = await fetch(`${server.baseUrl}/api/me/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook`, events: ['task.created'] }) })
  t.equal(created.status, 201)
  t.equal((await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: 'survive' }) })).status, 201)

  const [first] = await receiver.waitFor(1, 10_000)
  // The failed attempt is recorded and its retry scheduled, then the process dies at once.
  const until = Date.now() + 10_000
  let due: string | undefined
  while (due === undefined && Date.now() < until) {
    const { rows } = await sql<{ run_at: string }>`SELECT run_at FROM webhook_deliveries WHERE attempts = 1`.execute(db)
    due = rows[0]?.run_at
    if (due === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(due, 'the retry is queued')
  server.child.kill('SIGKILL')
  await new Promise((resolve) => server.child.once('exit', resolve))
  const wait = new Date(due ?? 0).getTime() + 1_000 - Date.now()
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  t.equal(receiver.received.length, 1, 'nothing was delivered while the service was down')

  status = 204
  const restarted = await startServer(t, env)
  const back = Date.now()
  const [, retry] = await receiver.waitFor(2, 10_000)
  t.ok((retry?.at ?? Infinity) - back < 5_000, `the overdue retry came ${(retry?.at ?? 0) - back} ms after the restart`)
  t.equal(retry?.headers['webhook-id'], first?.headers['webhook-id'], 'the same webhook-id')
  // The receiver answered before the attempt was recorded: wait for the record.
  const attempts = async (): Promise<Array<{ attempt: number, status_code: number | null }>> =>
    (await sql<{ attempt: number, status_code: number | null }>`SELECT attempt, status_code FROM webhook_attempts ORDER BY attempt`.execute(db)).rows
  const recorded = Date.now() + 5_000
  while ((await attempts()).length < 2 && Date.now() < recorded) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(await attempts(), [{ attempt: 1, status_code: 500 }, { attempt: 2, status_code: 204 }])
  await restarted.stop()
})

t.test('an attempt cut off by a crash is made again by another process, once the dead one lapses', async (t) => {
  const { url } = await isolatedDatabase(t)
  const env = {
    DATABASE_URL: url,
    JWT_SECRET: TEST_SECRET,
    MIGRATE_ON_START: 'false',
    NODE_ENV: 'test',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    JOB_LAPSE_MS: '2000'
  }
  // The first request is never answered: the process is killed while it waits.
  const receiver = await startReceiver(t, (_request, response) => { if (receiver.received.length > 1) response.writeHead(204).end() })
  const crashing = await startServer(t, env)
  const headers = { ...bearer(tokenFor(newUserId('cut-off'))), 'content-type': 'application/json' }
  t.equal((await fetch(`${crashing.baseUrl}/api/me/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook`, events: ['task.created'] }) })).status, 201)
  t.equal((await fetch(`${crashing.baseUrl}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: 'cut off' }) })).status, 201)
  const [first] = await receiver.waitFor(1, 10_000)
  crashing.child.kill('SIGKILL')
  await new Promise((resolve) => crashing.child.once('exit', resolve))

  const other = await startServer(t, env)
  const back = Date.now()
  const [, again] = await receiver.waitFor(2, 15_000)
  t.ok((again?.at ?? Infinity) - back < 10_000, `made again ${(again?.at ?? 0) - back} ms after the other process started (lapse 2 s)`)
  t.equal(again?.headers['webhook-id'], first?.headers['webhook-id'], 'the same delivery')
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  t.equal(receiver.received.length, 2, 'and made once')
  await other.stop()
})
