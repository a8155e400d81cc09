/**
 * Reminders fire (API.md "Reminders"): within 5 seconds after their time, once, however many
 * workers share the database; cancelled atomically by the changes that make them no longer
 * due; re-armed for each occurrence of a recurring task; late after a stop, dropped past 24
 * hours. On a database of its own, with the job queue running.
 */
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import * as reminders from '../../src/repositories/reminders.js'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { isolatedDatabase } from '../helpers/database.js'
import { openStream, streamsRegistered } from '../helpers/event-stream.js'
import { createTask, newUser, type TestUser } from '../helpers/factories.js'
import { eventually, sleep } from '../helpers/waiting.js'

const { url, db } = await isolatedDatabase(t)
const database = openDatabase({ url, poolMax: 5, role: SERVICE_ROLE })
t.teardown(async () => { await database.destroy() })

/** An app on this file's database; `workers` jobs at once (0: it fires nothing). */
async function app (t: Test, workers: number): Promise<FastifyInstance> {
  return await buildTestApp(t, { database, env: { JOB_CONCURRENCY: String(workers) } })
}

const inSeconds = (s: number): string => new Date(Date.now() + s * 1000).toISOString()

interface Fired { seq: string, occurred_at: string, data: { task: { id: string, title: string, reminders: unknown[] }, scheduled_for: string, late: boolean } }

async function firedFor (userId: string): Promise<Fired[]> {
  const { rows } = await sql<Fired>`
    SELECT seq::text AS seq, occurred_at::text AS occurred_at, data FROM events
    WHERE user_id = ${userId} AND type = 'reminder.fired' ORDER BY seq
  `.execute(db)
  return rows
}

async function armed (taskId: string): Promise<Array<{ key: string, run_at: string }>> {
  const { rows } = await sql<{ key: string, run_at: string }>`
    SELECT key, run_at::text AS run_at FROM graphile_worker.jobs WHERE key LIKE ${`reminder:${taskId}:%`} ORDER BY key
  `.execute(db)
  return rows
}

async function patch (t: Test, server: FastifyInstance, user: TestUser, id: string, body: unknown): Promise<Record<string, any>> {
  const response = await inject(t, server, { method: 'PATCH', url: `/api/me/tasks/${id}`, headers: { ...user.headers, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify(body) })
  t.equal(response.statusCode, 200, 'patched')
  return response.json()
}

t.test('reminders are answered as sent, and refused without a due to be before', async (t) => {
  const server = await app(t, 0)
  const user = newUser()
  const task = await createTask(t, server, user, { title: 'Sent', due_at: '2030-01-01T09:00:00Z', reminders: [{ before_due: 'PT15M' }, { at: '2029-12-31T10:00:00+01:00' }, { before_due: 'P1DT2H' }] })
  t.same(task.reminders, [{ before_due: 'PT15M' }, { at: '2029-12-31T09:00:00.000Z' }, { before_due: 'P1DT2H' }], 'same order, durations as written, at in UTC')
  const cleared = await inject(t, server, { method: 'PATCH', url: `/api/me/tasks/${task.id as string}`, headers: { ...user.headers, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ due_at: null }) })
  t.equal(cleared.statusCode, 400, 'clearing the due a before_due reminder needs')
  t.match(cleared.json().errors, [{ pointer: '/reminders' }])
  for (const [body, pointer] of [
    [{ title: 'No due', reminders: [{ at: '2030-01-01T00:00:00Z' }, { before_due: 'PT5M' }] }, '/reminders/1'],
    [{ title: 'Six', due_at: '2030-01-01T00:00:00Z', reminders: Array.from({ length: 6 }, () => ({ before_due: 'PT1M' })) }, '/reminders'],
    [{ title: 'Both', due_at: '2030-01-01T00:00:00Z', reminders: [{ at: '2030-01-01T00:00:00Z', before_due: 'PT1M' }] }, '/reminders/0'],
    [{ title: 'Bad duration', due_at: '2030-01-01T00:00:00Z', reminders: [{ before_due: '15 minutes' }] }, '/reminders/0'],
    [{ title: 'Leap second', due_at: '2030-01-01T00:00:00Z', reminders: [{ at: '2029-12-31T23:59:60Z' }] }, '/reminders/0/at']
  ] as const) {
    const response = await inject(t, server, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: body })
    t.equal(response.statusCode, 400, body.title)
    t.match(JSON.stringify(response.json().errors), pointer, `${body.title}: names ${pointer}`)
  }
  for (const duration of ['P999999Y', 'P999999999999Y']) {
    const response = await inject(t, server, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { title: 'Huge', due_at: '2030-01-01T00:00:00Z', reminders: [{ before_due: duration }] } })
    t.equal(response.statusCode, 400, `${duration}: reaches outside the dates kept, 400`)
  }
  const both = await patch(t, server, user, task.id, { due_at: null, reminders: [] })
  t.same(both.reminders, [], 'the due and the reminders cleared together')
})

t.test('a reminder fires within 5 seconds after its time, once, as a reminder.fired event', async (t) => {
  const server = await app(t, 2)
  const second = await app(t, 2)
  t.ok(second, 'a second worker pool on the same database')
  const user = newUser()
  const at = inSeconds(1.5)
  const task = await createTask(t, server, user, { title: 'Call back', due_at: inSeconds(3), reminders: [{ at }, { before_due: 'PT2S' }] })
  const fired = await eventually('both reminders fired', async () => await firedFor(user.id), (rows) => rows.length >= 2, 10_000)
  const scheduled = fired.map((row) => Date.parse(row.data.scheduled_for)).sort()
  t.same(scheduled, [Date.parse(at), Date.parse(task.due_at as string) - 2000].sort(), 'each at its own time')
  for (const row of fired) {
    const delay = Date.parse(row.occurred_at.replace(' ', 'T').replace(/\+00$/, 'Z')) - Date.parse(row.data.scheduled_for)
    t.ok(delay >= 0 && delay < 5000, `fired ${delay} ms after its time`)
    t.equal(row.data.late, false, 'not late')
    t.match(row.data.task, { id: task.id, title: 'Call back' }, 'the task in the event')
  }
  await sleep(2500)
  t.equal((await firedFor(user.id)).length, 2, 'and never again, with two worker pools')
  t.same(await armed(task.id), [], 'nothing left armed')
})

t.test('changing the reminders or the due, completing or trashing the task cancels what is no longer due', async (t) => {
  const server = await app(t, 0)
  const user = newUser()
  const task = await createTask(t, server, user, { title: 'Moving', due_at: inSeconds(3600), reminders: [{ before_due: 'PT30M' }, { at: inSeconds(600) }] })
  const first = await armed(task.id)
  t.equal(first.length, 2, 'both armed')
  await patch(t, server, user, task.id, { due_at: inSeconds(7200) })
  const moved = await armed(task.id)
  t.equal(moved.length, 2)
  t.ok(Date.parse(moved[0]!.run_at) - Date.parse(first[0]!.run_at) > 3500_000, 'the before_due one moved with the due')
  await patch(t, server, user, task.id, { reminders: [{ at: inSeconds(600) }] })
  t.equal((await armed(task.id)).length, 1, 'a removed reminder is cancelled')
  await patch(t, server, user, task.id, { completed: true })
  t.same(await armed(task.id), [], 'completing cancels')
  await patch(t, server, user, task.id, { completed: false })
  t.equal((await armed(task.id)).length, 1, 'reopening re-arms')
  await inject(t, server, { method: 'DELETE', url: `/api/me/tasks/${task.id as string}`, headers: user.headers })
  t.same(await armed(task.id), [], 'trashing cancels')
  const past = await createTask(t, server, user, { title: 'Past', reminders: [{ at: inSeconds(-60) }] })
  t.same(await armed(past.id), [], 'a reminder whose time has passed is not armed')
})

t.test('a reminder whose time has come keeps its job through a change that leaves its time', async (t) => {
  const user = newUser()
  const stopped = await app(t, 0)
  const at = inSeconds(1)
  const task = await createTask(t, stopped, user, { title: 'Due now', due_at: inSeconds(3600), reminders: [{ at }] })
  await sleep(1500)
  await patch(t, stopped, user, task.id, { due_at: inSeconds(7200), title: 'Moved' })
  const kept = await armed(task.id)
  t.same(kept.map((job) => Date.parse(job.run_at)), [Date.parse(at)], 'still armed for its time')
  await app(t, 1)
  const [fired] = await eventually('it fired', async () => await firedFor(user.id), (rows) => rows.length === 1, 10_000)
  t.equal(fired?.data.task.title, 'Moved', 'it fired, with the task as it is now')
})

t.test("a recurring task's before_due reminder re-arms for the next occurrence; its at reminder stays", async (t) => {
  const server = await app(t, 0)
  const user = newUser()
  const due = inSeconds(7200)
  const at = inSeconds(3600)
  const task = await createTask(t, server, user, { title: 'Daily', due_at: due, recurrence_rule: 'FREQ=DAILY', reminders: [{ before_due: 'PT1H' }, { at }] })
  const before = await armed(task.id)
  const advanced = (await inject(t, server, { method: 'PATCH', url: `/api/me/tasks/${task.id as string}/complete`, headers: user.headers })).json()
  t.equal(advanced.completed, false, 'advanced')
  const after = await armed(task.id)
  t.equal(Date.parse(after[0]!.run_at) - Date.parse(before[0]!.run_at), 86_400_000, 'before_due: a day later, for the next occurrence')
  t.equal(Date.parse(after[1]!.run_at), Date.parse(at), 'at: unchanged')
})

t.test('after a stop: late within 24 hours, dropped past them', async (t) => {
  const user = newUser()
  const stopped = await app(t, 0)
  const task = await createTask(t, stopped, user, { title: 'While down', due_at: inSeconds(3600), reminders: [{ at: inSeconds(1) }] })
  await sleep(7000)
  t.same(await firedFor(user.id), [], 'nothing fires while no worker runs')
  await app(t, 1)
  const [fired] = await eventually('the late reminder fired', async () => await firedFor(user.id), (rows) => rows.length === 1, 10_000)
  t.equal(fired?.data.late, true, 'late: more than 5 seconds after its time')
  t.equal(fired?.data.task.id, task.id)

  // A reminder 25 hours overdue (its job waited through a long stop): not fired.
  const owner = openDatabase({ url, poolMax: 1 })
  t.teardown(async () => { await owner.destroy() })
  const old = new Date(Date.now() - 25 * 3600_000).toISOString()
  await sql`UPDATE tasks SET reminders = ${JSON.stringify([{ at: old }])}::jsonb WHERE user_id = ${user.id} AND id = ${task.id}::uuid`.execute(owner.db)
  t.equal(await reminders.fire(database.forUser(user.id), user.id, task.id, 0, old), false, 'dropped')
  const fresh = new Date(Date.now() - 60_000).toISOString()
  await sql`UPDATE tasks SET reminders = ${JSON.stringify([{ at: fresh }])}::jsonb WHERE user_id = ${user.id} AND id = ${task.id}::uuid`.execute(owner.db)
  const twice = await Promise.all([0, 1].map(async () => await reminders.fire(database.forUser(user.id), user.id, task.id, 0, fresh)))
  t.same(twice.sort(), [false, true], 'two runs of one job at once: fired once')
  t.equal(await reminders.fire(database.forUser(user.id), user.id, task.id, 0, inSeconds(-120)), false, 'a time the reminder no longer has: not fired')
})

t.test('a fired reminder reaches an open stream of its user at once, not at the next heartbeat', async (t) => {
  // The event hub listens on this file's database; heartbeats (the streams' own look-again)
  // 15 s apart, longer than the wait below.
  const server = await buildTestApp(t, { database, env: { JOB_CONCURRENCY: '2', DATABASE_URL: url, EVENTS_HEARTBEAT_MS: '15000' } })
  const baseUrl = await server.listen({ host: '127.0.0.1', port: 0 })
  const user = newUser()
  const stream = await openStream(baseUrl, user.headers)
  t.teardown(() => { stream.close() })
  t.equal(stream.status, 200)
  await streamsRegistered(db, user.id, 1)
  const task = await createTask(t, server, user, { title: 'Streamed reminder', reminders: [{ at: inSeconds(1) }] })
  await stream.until((events) => events.some((event) => event.type === 'reminder.fired' && (event.data as { task: { id: string } }).task.id === task.id), 10_000)
  t.pass('the reminder.fired event came on the stream')
})
