/**
 * The event log (db/migrations/202611281200_change_record.ts, src/domain/events.ts): every
 * change writes exactly one event per task or category it changes, typed by API.md's rules,
 * in the changing transaction, numbered in commit order, carrying the state the API answered.
 */
import { sql } from 'kysely'
import t from 'tap'
import { type ApiEvent, EVENT_ID_PATTERN, toEvent } from '../../src/domain/events.js'
import * as events from '../../src/repositories/events.js'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { sharedServiceDatabase } from '../helpers/database.js'
import { createCategory, createTask, newUser } from '../helpers/factories.js'

t.test('the event log', async (t) => {
  const app = await buildTestApp(t)
  const database = sharedServiceDatabase(t)
  const user = newUser()
  const eventsSoFar = async (): Promise<ApiEvent[]> => (await events.listAfter(database.forUser(user.id), user.id, '0', 1000)).map(toEvent)
  const send = async (method: string, url: string, payload?: object): Promise<Record<string, any> | null> => {
    const response = await inject(t, app, { method, url, headers: user.headers, ...(payload === undefined ? {} : { payload }) })
    t.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode}`)
    return response.body === '' ? null : response.json()
  }

  const category = await createCategory(t, app, user, 'Home')
  const task = await createTask(t, app, user, { title: 'Water the plants', category_id: category.id })
  const renamed = await send('PATCH', `/api/me/tasks/${task.id as string}`, { title: 'Water the ferns' })
  await send('PATCH', `/api/me/tasks/${task.id as string}`, { title: 'Water the ferns' })
  const completed = await send('PATCH', `/api/me/tasks/${task.id as string}/complete`)
  const reopened = await send('PATCH', `/api/me/tasks/${task.id as string}/complete`)
  await send('DELETE', `/api/me/tasks/${task.id as string}`)
  const restored = await send('POST', `/api/me/tasks/${task.id as string}/restore`)
  const recoloured = await send('PATCH', `/api/me/categories/${category.id as string}`, { color: '#123456' })
  await send('DELETE', `/api/me/categories/${category.id as string}`)
  const afterCategory = await send('GET', `/api/me/tasks/${task.id as string}`)
  await send('DELETE', `/api/me/tasks/${task.id as string}`)
  await send('DELETE', `/api/me/trash/${task.id as string}`)

  const log = await eventsSoFar()
  t.same(log.map((event) => event.type), [
    'category.created', 'task.created', 'task.updated', 'task.completed', 'task.reopened',
    'task.deleted', 'task.restored', 'category.updated', 'task.updated', 'category.deleted',
    'task.deleted', 'task.purged'
  ], 'one event a change, none for a write that changed nothing, typed by API.md\'s rules')
  t.ok(log.every((event) => EVENT_ID_PATTERN.test(event.id)), 'ids are zero-padded decimals')
  t.same(log.map((event) => event.id), log.map((event) => event.id).sort(), 'their byte order is their order')
  t.same(log[0]?.data, category, 'category.created carries the category as created')
  t.same(log[1]?.data, task, 'task.created carries the task as the API answered')
  t.same(log[2]?.data, renamed)
  t.same(log[3]?.data, completed)
  t.same(log[4]?.data, reopened)
  t.same(log[6]?.data, restored)
  t.same(log[7]?.data, recoloured)
  t.same(log[8]?.data, afterCategory, 'the category\'s deletion is a change of its task, before the deletion itself')
  t.same(log[9]?.data, { id: category.id })
  t.same(log[11]?.data, { id: task.id })
  t.ok(log.every((event) => !Number.isNaN(Date.parse(event.occurred_at)) && event.occurred_at.endsWith('Z')))

  t.test('nothing is recorded for a change that is rolled back', async (t) => {
    const before = (await eventsSoFar()).length
    const response = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { title: 'x', category_id: category.id } })
    t.equal(response.statusCode, 422, 'a task in a deleted category is refused')
    t.equal((await eventsSoFar()).length, before)
  })

  t.test('another user\'s events are not readable', async (t) => {
    const other = newUser()
    t.same(await events.listAfter(database.forUser(other.id), user.id, '0', 10), [], 'row-level security hides them even when asked by id')
  })
})

t.test('several feeds\' reads in one statement answer each as its own read would', async (t) => {
  const app = await buildTestApp(t)
  const database = sharedServiceDatabase(t)
  const [ann, bob, eve] = [newUser(), newUser(), newUser()]
  for (let i = 0; i < 5; i++) await createTask(t, app, ann, { title: `Ann ${i}` })
  for (let i = 0; i < 3; i++) await createTask(t, app, bob, { title: `Bob ${i}` })
  const alone = async (userId: string, after: string, limit: number): Promise<unknown[]> => await events.listAfter(database.forUser(userId), userId, after, limit)
  const annAll = await alone(ann.id, '0', 100)
  const annSecond = (annAll[1] as { seq: string }).seq
  const reads = [
    { userId: ann.id, after: '0', limit: 100 },
    { userId: bob.id, after: '0', limit: 2 },
    { userId: ann.id, after: annSecond, limit: 2 },
    { userId: eve.id, after: '0', limit: 100 },
    { userId: bob.id, after: '999999', limit: 100 }
  ]
  // The service's role, with no user set: only the function can read across users.
  const answers = await events.listAfterForFeeds(database.db, reads)
  t.equal(answers.length, reads.length, 'one answer per read, in the reads\' order')
  for (const [index, read] of reads.entries()) {
    t.same(answers[index], await alone(read.userId, read.after, read.limit), `read ${index + 1}: the rows, order and limit of reading alone`)
  }
  t.equal(answers[0]?.length, 5)
  t.same(answers[3], [], 'a user without events gets none of the others\'')
  t.ok(answers.flat().every((row) => row.user_id !== eve.id), 'nor does any row name them')
  t.same(await events.listAfterForFeeds(database.db, []), [], 'no reads, no rows')

  t.test('a missing limit, or arrays of unequal length, read nothing for the requests concerned', async (t) => {
    const { rows } = await sql<{ request: number }>`
      SELECT request FROM read_stream_feeds(ARRAY[${ann.id}, ${ann.id}, ${bob.id}]::text[], ARRAY['0', '0']::bigint[], ARRAY[NULL, -1, 5]::integer[])`.execute(database.db)
    t.same(rows, [], 'never a whole log')
  })

  t.test('the function is the service\'s alone', async (t) => {
    const { rows } = await sql<{ allowed: boolean }>`SELECT has_function_privilege('public', 'read_stream_feeds(text[], bigint[], integer[])', 'EXECUTE') AS allowed`.execute(database.db)
    t.equal(rows[0]?.allowed, false, 'PUBLIC may not execute it')
  })
})
