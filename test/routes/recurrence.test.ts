/**
 * API.md part two, "Recurrence", through the API: the rule's 400s, completion advancing in
 * place (kept wall-clock across daylight saving, by whole dates for all-day tasks, by one
 * occurrence however overdue), exhausted rules completing, the start moving with the rule or
 * the due, and listTaskCompletions.
 */
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { createTask, newUser, type TestUser } from '../helpers/factories.js'

const app = await buildTestApp(t)

async function send (t: Test, user: TestUser, method: 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown): Promise<{ statusCode: number, json: () => any }> {
  const headers = { ...user.headers, ...(payload === undefined ? {} : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }) }
  return await inject(t, app, { method, url, headers, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
}

const complete = async (t: Test, user: TestUser, id: string): Promise<any> => {
  const response = await send(t, user, 'PATCH', `/api/me/tasks/${id}/complete`)
  t.equal(response.statusCode, 200, 'completed')
  return response.json()
}

async function completionsOf (t: Test, user: TestUser, id: string, query = ''): Promise<any> {
  const response = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${id}/completions${query}`, headers: user.headers })
  t.equal(response.statusCode, 200, 'completions listed')
  return response.json()
}

t.test('a rule that cannot stand is 400 naming /recurrence_rule, and changes nothing', async (t) => {
  const user = newUser()
  for (const [body, why] of [
    [{ recurrence_rule: 'FREQ=DAILY' }, /needs a due_at or due_date/],
    [{ due_date: '2026-12-01', recurrence_rule: 'FREQ=HOURLY' }, /DAILY, WEEKLY, MONTHLY or YEARLY/],
    [{ due_date: '2026-12-01', recurrence_rule: 'FREQ=DAILY;UNTIL=20270610T090000Z' }, /a date such as/],
    [{ due_at: '2026-12-01T09:00:00Z', recurrence_rule: 'FREQ=DAILY;UNTIL=20270610' }, /UTC date-time/],
    [{ due_at: '2026-12-01T09:00:00Z', recurrence_rule: 'FREQ=DAILY;COUNT=2;UNTIL=20270610T090000Z' }, /COUNT and UNTIL/]
  ] as const) {
    const response = await send(t, user, 'POST', '/api/me/tasks', { title: 'Rule', ...body })
    t.equal(response.statusCode, 400, body.recurrence_rule)
    t.match(response.json().errors, [{ pointer: '/recurrence_rule', detail: why }], body.recurrence_rule)
  }
  const overlong = await send(t, user, 'POST', '/api/me/tasks', { title: 'Rule', due_date: '2026-12-01', recurrence_rule: 'FREQ=DAILY;' + 'X'.repeat(500) })
  t.equal(overlong.statusCode, 400, 'over 500 characters')

  const task = await createTask(t, app, user, { title: 'Weekly', due_date: '2026-12-07', recurrence_rule: 'FREQ=WEEKLY;UNTIL=20271231' })
  t.equal(task.recurrence_rule, 'FREQ=WEEKLY;UNTIL=20271231', 'answered as sent')
  const url = `/api/me/tasks/${task.id as string}`
  const cleared = await send(t, user, 'PATCH', url, { due_date: null })
  t.equal(cleared.statusCode, 400, 'clearing the due alone')
  t.match(cleared.json().errors, [{ pointer: '/recurrence_rule', detail: /only together with its rule/ }])
  const timed = await send(t, user, 'PATCH', url, { due_at: '2026-12-07T09:00:00Z' })
  t.equal(timed.statusCode, 400, 'a timed due leaves a date UNTIL in the wrong form')
  t.match(timed.json().errors, [{ pointer: '/recurrence_rule', detail: /UTC date-time/ }])
  const read = await inject(t, app, { method: 'GET', url, headers: user.headers })
  t.match(read.json(), { due_date: '2026-12-07', recurrence_rule: 'FREQ=WEEKLY;UNTIL=20271231', version: 1 }, 'unchanged')
  const both = await send(t, user, 'PATCH', url, { due_date: null, recurrence_rule: null })
  t.match(both.json(), { due_date: null, recurrence_rule: null, version: 2 }, 'the due and the rule cleared together')
})

t.test('completing a timed recurring task advances it, keeping 09:00 Berlin across the spring change', async (t) => {
  const user = newUser()
  const task = await createTask(t, app, user, { title: 'Plants', due_at: '2026-03-28T08:00:00Z', time_zone: 'Europe/Berlin', recurrence_rule: 'FREQ=DAILY' })
  const advanced = await complete(t, user, task.id)
  t.match(advanced, { completed: false, completed_at: null, due_at: '2026-03-29T07:00:00.000Z', version: 2 }, 'next day, 09:00 CEST')
  const again = await send(t, user, 'PATCH', `/api/me/tasks/${task.id as string}`, { completed: true })
  t.match(again.json(), { completed: false, due_at: '2026-03-30T07:00:00.000Z', version: 3 }, 'PATCH completed: true advances too')
  const list = await completionsOf(t, user, task.id)
  t.same(list.items.map((c: any) => c.occurrence_due), ['2026-03-29T07:00:00.000Z', '2026-03-28T08:00:00.000Z'], 'both recorded, newest first')
  t.equal(list.next_cursor, null)
})

t.test("a task without a zone of its own follows the user's", async (t) => {
  const user = newUser()
  await send(t, user, 'PATCH', '/api/me', { time_zone: 'America/New_York' })
  // 09:00 in New York on 7 March 2026 (EST), then the clocks go forward.
  const task = await createTask(t, app, user, { title: 'Standup', due_at: '2026-03-07T14:00:00Z', recurrence_rule: 'FREQ=DAILY' })
  t.match(await complete(t, user, task.id), { due_at: '2026-03-08T13:00:00.000Z' }, '09:00 EDT')
})

t.test('an all-day task moves by whole dates; an overdue one by one occurrence', async (t) => {
  const user = newUser()
  const task = await createTask(t, app, user, { title: 'Rent', due_date: '2020-01-31', recurrence_rule: 'FREQ=MONTHLY;BYMONTHDAY=-1' })
  t.match(await complete(t, user, task.id), { due_date: '2020-02-29', due_at: null, completed: false }, 'the next month end, not the one after now')
  t.match(await complete(t, user, task.id), { due_date: '2020-03-31' })
  const list = await completionsOf(t, user, task.id)
  t.same(list.items.map((c: any) => c.occurrence_due), ['2020-02-29', '2020-01-31'], 'dates for an all-day task')
})

t.test('an exhausted rule completes the task, and records that completion too', async (t) => {
  const user = newUser()
  const task = await createTask(t, app, user, { title: 'Course', due_date: '2026-01-05', recurrence_rule: 'FREQ=WEEKLY;COUNT=2' })
  t.match(await complete(t, user, task.id), { completed: false, due_date: '2026-01-12' })
  const last = await complete(t, user, task.id)
  t.match(last, { completed: true, due_date: '2026-01-12', version: 3 }, 'completed on its last occurrence')
  t.not(last.completed_at, null)
  t.equal((await completionsOf(t, user, task.id)).items.length, 2, 'two completions')
  t.match(await complete(t, user, task.id), { completed: false, due_date: '2026-01-12' }, 'toggling again reopens it, as any task')
})

t.test("changing the rule's or the due's value makes the current due the start", async (t) => {
  const user = newUser()
  const task = await createTask(t, app, user, { title: 'Twice', due_date: '2026-01-05', recurrence_rule: 'FREQ=DAILY;COUNT=2' })
  const url = `/api/me/tasks/${task.id as string}`
  await complete(t, user, task.id)
  const same = await send(t, user, 'PATCH', url, { recurrence_rule: 'FREQ=DAILY;COUNT=2' })
  t.equal(same.json().version, 2, 'repeating the current value changes nothing')
  t.match(await complete(t, user, task.id), { completed: true }, 'so COUNT=2 is used up')
  const reopened = await send(t, user, 'PATCH', url, { completed: false, recurrence_rule: 'FREQ=DAILY;COUNT=3' })
  t.match(reopened.json(), { completed: false, due_date: '2026-01-06' })
  t.match(await complete(t, user, task.id), { completed: false, due_date: '2026-01-07' }, 'a new rule counts from the current due')
})

t.test('listTaskCompletions pages and refuses foreign cursors', async (t) => {
  const user = newUser()
  const task = await createTask(t, app, user, { title: 'Daily', due_date: '2026-02-01', recurrence_rule: 'FREQ=DAILY' })
  for (let i = 0; i < 3; i++) await complete(t, user, task.id)
  const first = await completionsOf(t, user, task.id, '?limit=2')
  t.equal(first.items.length, 2)
  t.type(first.next_cursor, 'string')
  const second = await completionsOf(t, user, task.id, `?limit=2&cursor=${encodeURIComponent(first.next_cursor as string)}`)
  t.same([...first.items, ...second.items].map((c: any) => c.occurrence_due), ['2026-02-03', '2026-02-02', '2026-02-01'], 'every completion once, newest first')
  t.equal(second.next_cursor, null)

  const other = await createTask(t, app, user, { title: 'Other' })
  const foreign = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${other.id as string}/completions?cursor=${encodeURIComponent(first.next_cursor as string)}`, headers: user.headers })
  t.equal(foreign.statusCode, 400, "another task's cursor: 400")
  const listCursor = (await inject(t, app, { method: 'GET', url: '/api/me/tasks?limit=1', headers: user.headers })).json().next_cursor as string
  const mixed = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}/completions?cursor=${encodeURIComponent(listCursor)}`, headers: user.headers })
  t.equal(mixed.statusCode, 400, 'a listTasks cursor: 400')

  t.equal((await completionsOf(t, user, other.id)).items.length, 0, 'a task never completed has none')
  await inject(t, app, { method: 'DELETE', url: `/api/me/tasks/${task.id as string}`, headers: user.headers })
  const trashed = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}/completions`, headers: user.headers })
  t.equal(trashed.statusCode, 404, 'a task in the trash: 404')
})

t.test('a batch completes a recurring task as the toggle does, and rolls its completion back with it', async (t) => {
  const user = newUser()
  const task = await createTask(t, app, user, { title: 'Batch', due_date: '2026-06-01', recurrence_rule: 'FREQ=DAILY' })
  const run = async (atomic: boolean, extra: unknown[]): Promise<any> => (await inject(t, app, {
    method: 'POST',
    url: '/api/me/batch',
    headers: { ...user.headers, 'content-type': 'application/json' },
    payload: JSON.stringify({ atomic, operations: [{ op: 'set_completion', ref: 'done', id: task.id, body: { completed: true } }, ...extra] })
  })).json()
  const done = await run(false, [])
  t.match(done.results[0], { status: 200, body: { completed: false, due_date: '2026-06-02' } })
  // All or nothing: a failing second operation takes the advance and its completion back.
  const failed = await run(true, [{ op: 'update_task', ref: 'bad', id: task.id, body: { title: '' } }])
  t.equal(failed.committed, false, 'not committed')
  const read = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}`, headers: user.headers })
  t.match(read.json(), { due_date: '2026-06-02', version: 2 }, 'the task as after the first batch')
  t.equal((await completionsOf(t, user, task.id)).items.length, 1, 'one completion, not two')
})
