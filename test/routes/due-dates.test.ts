/**
 * API.md part two, "Time zones and due dates": all-day `due_date` exclusive with `due_at`,
 * task `time_zone`, the effective due instant behind `due_after`/`due_before`/`sort=due_at`
 * (recomputed when the user's zone changes), and the `due` views judged in the user's zone.
 */
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { sharedOwnerDatabase } from '../helpers/database.js'
import { createTask, newUser, type TestUser } from '../helpers/factories.js'

const app = await buildTestApp(t)

async function setZone (t: Test, user: TestUser, zone: string | null): Promise<void> {
  const response = await inject(t, app, { method: 'PATCH', url: '/api/me', headers: { ...user.headers, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ time_zone: zone }) })
  t.equal(response.statusCode, 200, `zone ${String(zone)} set`)
}

async function titles (t: Test, user: TestUser, query: string): Promise<string[]> {
  const response = await inject(t, app, { method: 'GET', url: `/api/me/tasks?${query}`, headers: user.headers })
  t.equal(response.statusCode, 200, query)
  return (response.json() as { items: Array<{ title: string }> }).items.map((task) => task.title)
}

async function write (t: Test, user: TestUser, method: 'POST' | 'PUT' | 'PATCH', url: string, payload: unknown): Promise<{ statusCode: number, json: () => any }> {
  const headers = { ...user.headers, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }
  return await inject(t, app, { method, url, headers, payload: JSON.stringify(payload) })
}

/** Exactly this instant, as a due_after/due_before pair. */
const at = (instant: string): string => `due_after=${encodeURIComponent(instant)}&due_before=${encodeURIComponent(new Date(Date.parse(instant) + 1).toISOString())}`

t.test('due_date and time_zone are fields of the task, answered as sent', async (t) => {
  const user = newUser()
  const task = await createTask(t, app, user, { title: 'Rent', due_date: '2026-12-01', time_zone: 'Asia/Calcutta' })
  t.match(task, { due_at: null, due_date: '2026-12-01', time_zone: 'Asia/Calcutta' })
  const plain = await createTask(t, app, user, { title: 'Plain' })
  t.match(plain, { due_at: null, due_date: null, time_zone: null }, 'both null by default')
  const read = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}`, headers: user.headers })
  t.match(read.json(), { due_date: '2026-12-01', time_zone: 'Asia/Calcutta' }, 'read back')
})

t.test('one kind of due at a time', async (t) => {
  const user = newUser()

  t.test('both set to values is 400 on create, replace and patch, and changes nothing', async (t) => {
    const both = { title: 'Both', due_at: '2026-12-01T09:00:00Z', due_date: '2026-12-01' }
    const created = await write(t, user, 'POST', '/api/me/tasks', both)
    t.equal(created.statusCode, 400)
    t.match(created.json().errors, [{ pointer: '/due_date' }])
    const task = await createTask(t, app, user, { title: 'Kept', due_date: '2026-11-30' })
    for (const [method, body] of [['PUT', both], ['PATCH', { due_at: '2026-12-01T09:00:00Z', due_date: '2026-12-01' }]] as const) {
      const response = await write(t, user, method, `/api/me/tasks/${task.id as string}`, body)
      t.equal(response.statusCode, 400, method)
      t.match(response.json().errors, [{ pointer: '/due_date' }], method)
    }
    const read = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}`, headers: user.headers })
    t.match(read.json(), { title: 'Kept', due_date: '2026-11-30', due_at: null, version: 1 })
  })

  t.test('setting one to a value clears the other; setting one to null does not', async (t) => {
    const task = await createTask(t, app, user, { title: 'Switch', due_at: '2026-12-01T09:00:00Z' })
    const url = `/api/me/tasks/${task.id as string}`
    const toDate = await write(t, user, 'PATCH', url, { due_date: '2026-12-02' })
    t.match(toDate.json(), { due_date: '2026-12-02', due_at: null, version: 2 })
    const toInstant = await write(t, user, 'PATCH', url, { due_at: '2026-12-03T10:00:00Z' })
    t.match(toInstant.json(), { due_date: null, due_at: '2026-12-03T10:00:00.000Z', version: 3 })
    const nulls = await write(t, user, 'PATCH', url, { due_date: null })
    t.match(nulls.json(), { due_at: '2026-12-03T10:00:00.000Z', version: 3 }, 'a null for the kind it does not have changes nothing')
    const together = await write(t, user, 'PATCH', url, { due_at: null, due_date: '2026-12-04' })
    t.match(together.json(), { due_at: null, due_date: '2026-12-04', version: 4 }, 'one value and one null')
  })

  t.test('an unknown task zone is 400 naming /time_zone; null clears it', async (t) => {
    for (const zone of ['Mars/Olympus_Mons', '+01:00', 'europe berlin']) {
      const response = await write(t, user, 'POST', '/api/me/tasks', { title: 'Zone', time_zone: zone })
      t.equal(response.statusCode, 400, zone)
      t.match(response.json().errors, [{ pointer: '/time_zone' }], zone)
    }
    const task = await createTask(t, app, user, { title: 'Zone', time_zone: 'Europe/Berlin' })
    const cleared = await write(t, user, 'PATCH', `/api/me/tasks/${task.id as string}`, { time_zone: null })
    t.match(cleared.json(), { time_zone: null, version: 2 })
  })
})

t.test('the effective due instant: due_at, or the start of the due_date in the effective zone', async (t) => {
  const user = newUser()
  // 2026-03-10 starts at 2026-03-09T15:00Z in Tokyo, at 2026-03-10T00:00Z in UTC (the user's zone).
  await createTask(t, app, user, { title: 'tokyo', due_date: '2026-03-10', time_zone: 'Asia/Tokyo' })
  await createTask(t, app, user, { title: 'utc-day', due_date: '2026-03-10' })
  await createTask(t, app, user, { title: 'instant', due_at: '2026-03-09T20:00:00Z' })
  await createTask(t, app, user, { title: 'undated' })

  t.same(await titles(t, user, 'sort=due_at&order=asc'), ['tokyo', 'instant', 'utc-day', 'undated'], 'ascending, no due last')
  t.same(await titles(t, user, 'sort=due_at&order=desc'), ['utc-day', 'instant', 'tokyo', 'undated'], 'descending, no due last')
  t.same(await titles(t, user, at('2026-03-09T15:00:00Z')), ['tokyo'])
  t.same(await titles(t, user, at('2026-03-10T00:00:00Z')), ['utc-day'])
  t.same(await titles(t, user, 'due_after=2026-03-09T16:00:00Z&due_before=2026-03-11T00:00:00Z&sort=due_at&order=asc'), ['instant', 'utc-day'])

  t.test('a page boundary on the effective instant', async (t) => {
    const first = await inject(t, app, { method: 'GET', url: '/api/me/tasks?sort=due_at&order=asc&limit=2', headers: user.headers })
    const cursor = (first.json() as { next_cursor: string }).next_cursor
    t.same(await titles(t, user, `sort=due_at&order=asc&limit=2&cursor=${encodeURIComponent(cursor)}`), ['utc-day', 'undated'])
  })

  t.test("the user's zone change moves the all-day tasks that follow it, and only those", async (t) => {
    // In March, Auckland is UTC+13: 2026-03-10 starts at 2026-03-09T11:00Z.
    await setZone(t, user, 'Pacific/Auckland')
    t.same(await titles(t, user, at('2026-03-09T11:00:00Z')), ['utc-day'], 'visible once the PATCH has answered')
    t.same(await titles(t, user, at('2026-03-09T15:00:00Z')), ['tokyo'], 'a task with its own zone stays')
    t.same(await titles(t, user, at('2026-03-09T20:00:00Z')), ['instant'], 'an instant stays')
    await setZone(t, user, null)
    t.same(await titles(t, user, at('2026-03-10T00:00:00Z')), ['utc-day'], 'no zone: UTC again')
  })

  t.test("a task's own zone, set or cleared, moves it", async (t) => {
    const task = await createTask(t, app, user, { title: 'moving', due_date: '2026-07-01', time_zone: 'America/New_York' })
    t.same(await titles(t, user, at('2026-07-01T04:00:00Z')), ['moving'], 'New York in summer: UTC-4')
    await write(t, user, 'PATCH', `/api/me/tasks/${task.id as string}`, { time_zone: null })
    t.same(await titles(t, user, at('2026-07-01T00:00:00Z')), ['moving'], "then the user's zone (UTC)")
  })
})

t.test('a zone change recomputes every following task, past one batch', async (t) => {
  const user = newUser()
  await setZone(t, user, 'UTC')
  const owner = sharedOwnerDatabase(t).db
  // 1,200 all-day tasks that follow the user's zone (more than two batches), written as the
  // owner for speed; the trigger computes their instants as for any write.
  await owner.insertInto('users').values({ id: user.id, email: null, name: null }).onConflict((oc) => oc.doNothing()).execute()
  await owner.insertInto('tasks').values(Array.from({ length: 1200 }, (_, i) => ({ user_id: user.id, title: `bulk ${i}`, due_date: '2026-05-05' }))).execute()
  await setZone(t, user, 'Asia/Kathmandu')
  // Kathmandu is UTC+05:45: 2026-05-05 starts at 2026-05-04T18:15Z.
  const moved = await owner.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', user.id).where('due_effective', '=', '2026-05-04T18:15:00Z').executeTakeFirstOrThrow()
  t.equal(Number(moved.n), 1200, 'all 1,200 moved')
  const versions = await owner.selectFrom('tasks').select('version').distinct().where('user_id', '=', user.id).execute()
  t.same(versions, [{ version: 1 }], 'not a change of any task: versions stay')
})

t.test('the due views, judged in the user zone', async (t) => {
  const user = newUser()
  // A zone where it is now around midday, so that an hour either way is still today there.
  const offset = 12 - new Date().getUTCHours()
  const zone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`
  await setZone(t, user, zone)
  const dateIn = (days: number): string => new Date(Date.now() + offset * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10)
  const hours = (n: number): string => new Date(Date.now() + n * 3_600_000).toISOString()

  await createTask(t, app, user, { title: 'yesterday', due_date: dateIn(-1) })
  await createTask(t, app, user, { title: 'yesterday-done', due_date: dateIn(-1), completed: true })
  await createTask(t, app, user, { title: 'today-date', due_date: dateIn(0) })
  // Kiritimati (UTC+14) is a day ahead of most places: a due_date is still compared with the user's today.
  await createTask(t, app, user, { title: 'today-date-far-zone', due_date: dateIn(0), time_zone: 'Pacific/Kiritimati' })
  await createTask(t, app, user, { title: 'hour-ago', due_at: hours(-1) })
  await createTask(t, app, user, { title: 'hour-ago-done', due_at: hours(-1), completed: true })
  await createTask(t, app, user, { title: 'in-an-hour', due_at: hours(1) })
  await createTask(t, app, user, { title: 'tomorrow-date', due_date: dateIn(1) })
  await createTask(t, app, user, { title: 'in-two-days', due_at: hours(48) })
  await createTask(t, app, user, { title: 'undated' })
  await createTask(t, app, user, { title: 'undated-done', completed: true })

  const view = async (due: string): Promise<string[]> => (await titles(t, user, `due=${due}&limit=100`)).sort()
  t.same(await view('overdue'), ['hour-ago', 'yesterday'].sort(), 'overdue: not completed, before now (a date before today)')
  t.same(await view('today'), ['hour-ago', 'hour-ago-done', 'in-an-hour', 'today-date', 'today-date-far-zone'].sort(), 'today: completed included')
  t.same(await view('upcoming'), ['in-two-days', 'tomorrow-date'].sort(), 'upcoming: after today')
  t.same(await view('none'), ['undated', 'undated-done'].sort(), 'none: no due, completed included')
  t.same(await titles(t, user, 'due=overdue&status=completed'), [], 'combined with other filters')

  const bad = await inject(t, app, { method: 'GET', url: '/api/me/tasks?due=someday', headers: user.headers })
  t.equal(bad.statusCode, 400, 'an unknown view is 400')
})

t.test("a zone the database does not know is refused by the database's own check too", async (t) => {
  const db = sharedOwnerDatabase(t).db
  const user = newUser()
  await db.insertInto('users').values({ id: user.id, email: null, name: null }).execute()
  await t.rejects(
    db.insertInto('tasks').values({ user_id: user.id, title: 'x', time_zone: 'Nowhere/Special' }).execute(),
    { code: '22023' },
    'the trigger checks a task zone even without a due_date'
  )
})
