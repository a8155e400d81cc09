/**
 * Reminders across service processes and restarts (API.md "Reminders"): three processes on
 * one database fire 50 reminders due in the same second exactly once each; a reminder whose
 * time passes while the only process is down fires late when it is back.
 */
import { sql } from 'kysely'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'
import { eventually, sleep } from '../helpers/waiting.js'

t.test('three processes, 50 reminders due in the same second: 50 events, each once, on time', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const env = { DATABASE_URL: url, JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test', JOB_CONCURRENCY: '4' }
  const servers = await Promise.all([0, 1, 2].map(async () => await startServer(t, env)))
  const userId = newUserId('reminders')
  const headers = { ...bearer(tokenFor(userId)), 'content-type': 'application/json' }
  // Due at the start of a whole second, far enough ahead for 50 creates on a busy machine.
  const at = new Date(Math.ceil((Date.now() + 8_000) / 1000) * 1000).toISOString()
  const created = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const server = servers[i % 3] as (typeof servers)[number]
    const response = await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: `reminder ${i}`, reminders: [{ at }] }) })
    return response.status
  }))
  t.same(created, Array(50).fill(201), '50 tasks with a reminder, through all three processes')
  t.ok(Date.now() < Date.parse(at), 'all created before the reminders are due')

  // When they do not fire, what the processes said is the first thing to read.
  const saidSoFar = (): string => servers.map((server, i) => `process ${i}:\n${server.output().split('\n').slice(-40).join('\n')}`).join('\n')
  const fired = await eventually('50 reminders fired', async () =>
    (await sql<{ task: string, late: boolean, delay_ms: number }>`
      SELECT entity_id::text AS task, (data->>'late')::boolean AS late,
             (extract(epoch FROM occurred_at - (data->>'scheduled_for')::timestamptz) * 1000)::int AS delay_ms
      FROM events WHERE user_id = ${userId} AND type = 'reminder.fired'
    `.execute(db)).rows, (rows) => rows.length >= 50, Date.parse(at) - Date.now() + 15_000).catch((error: unknown) => {
    t.comment(saidSoFar())
    throw error
  })
  await sleep(3_000)
  const { rows: [count] } = await sql<{ n: number, tasks: number }>`
    SELECT count(*)::int AS n, count(DISTINCT entity_id)::int AS tasks FROM events WHERE user_id = ${userId} AND type = 'reminder.fired'
  `.execute(db)
  t.same(count, { n: 50, tasks: 50 }, 'exactly 50 events, one per task, a few seconds later still')
  const worst = Math.max(...fired.map((row) => row.delay_ms))
  t.ok(worst < 5_000, `each within 5 s of its time (slowest ${worst} ms)`)
  t.same(fired.filter((row) => row.late).map((row) => row.task), [], 'none late')
  await Promise.all(servers.map(async (server) => await server.stop()))
})

t.test('a reminder due while the service is down fires late when it is back', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const env = { DATABASE_URL: url, JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test', JOB_CONCURRENCY: '2' }
  const server = await startServer(t, env)
  const userId = newUserId('down')
  const headers = { ...bearer(tokenFor(userId)), 'content-type': 'application/json' }
  const at = new Date(Date.now() + 4_000).toISOString()
  const response = await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: 'while down', reminders: [{ at }] }) })
  t.equal(response.status, 201)
  const task = await response.json() as { id: string }
  t.equal(await server.stop('SIGKILL'), null, 'killed before its time')
  await sleep(Math.max(0, Date.parse(at) - Date.now()) + 7_000)
  const fired = async (): Promise<Array<{ late: boolean, task: string }>> => (await sql<{ late: boolean, task: string }>`
    SELECT (data->>'late')::boolean AS late, entity_id::text AS task FROM events WHERE user_id = ${userId} AND type = 'reminder.fired'
  `.execute(db)).rows
  t.same(await fired(), [], 'nothing fired while no process ran')
  const restarted = await startServer(t, env)
  const events = await eventually('the late reminder fired', fired, (rows) => rows.length > 0, 10_000)
  t.same(events, [{ late: true, task: task.id }], 'fired once, late')
  await restarted.stop()
})
