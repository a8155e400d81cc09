/**
 * A whole user journey through the typed SDK alone, against the real server on a random
 * port: categories, tasks with a safe retry, filtered listing over every page, If-Match and
 * recovery from a 412, completion, deletion, an offline queue sent as one batch, and typed
 * problem details.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createTodoClient, etagOf, runBatch, StreamError, streamEvents, SyncError, syncAll, type Task, type TodoEvent } from 'todo-contract/client'
import { sharedDb, sharedUrl } from '../helpers/database.js'
import { streamsRegistered } from '../helpers/event-stream.js'
import { startServer } from '../helpers/server.js'
import { newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'
import { settlesWithin } from '../helpers/waiting.js'

t.test('a user journey through the SDK', async (t) => {
  const server = await startServer(t, { DATABASE_URL: sharedUrl(), JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test' })
  const userId = newUserId('sdk')
  let tokenCalls = 0
  const api = createTodoClient({ baseUrl: server.baseUrl, token: () => { tokenCalls++; return tokenFor(userId, { claims: { email: 'sdk@example.com' } }) } })
  const me = { user_id: 'me' }

  const user = await api.GET('/api/me')
  t.equal(user.data?.id, userId)
  t.equal(user.data?.email, 'sdk@example.com')
  t.ok(tokenCalls > 0, 'the token function is called per request')

  const work = await api.POST('/api/{user_id}/categories', { params: { path: me }, body: { name: 'Work', color: '#1E88E5' } })
  const home = await api.POST('/api/{user_id}/categories', { params: { path: me }, body: { name: 'Home' } })
  t.equal(work.response.status, 201)
  const workId = work.data!.id
  const duplicate = await api.POST('/api/{user_id}/categories', { params: { path: me }, body: { name: 'work' } })
  t.equal(duplicate.response.status, 409)
  t.equal(duplicate.error?.type, 'urn:todo-contract:problem:conflict', 'typed problem details')

  // A create retried with the same Idempotency-Key (as after a lost response) creates one task.
  const body = { title: 'Quarterly report', priority: 'high' as const, category_id: workId, tags: ['Q3', 'reports'] }
  const params = { path: me, header: { 'Idempotency-Key': `report-${userId}` } }
  const created = await api.POST('/api/{user_id}/tasks', { params, body })
  const retried = await api.POST('/api/{user_id}/tasks', { params, body })
  t.equal(created.response.status, 201)
  t.equal(retried.response.headers.get('idempotent-replayed'), 'true')
  t.equal(retried.data?.id, created.data?.id)
  t.same(created.data?.tags, ['q3', 'reports'])

  for (let i = 0; i < 11; i++) {
    const made = await api.POST('/api/{user_id}/tasks', {
      params: { path: me },
      body: { title: `Chore ${i}`, category_id: i % 2 === 0 ? home.data!.id : null, priority: i % 3 === 0 ? 'low' : 'medium' }
    })
    t.equal(made.response.status, 201)
  }

  // Every page of a filtered listing, through the cursor.
  const seen: Task[] = []
  let cursor: string | undefined
  do {
    const page = await api.GET('/api/{user_id}/tasks', { params: { path: me, query: { category_id: home.data!.id, sort: 'title', order: 'asc', limit: 2, ...(cursor === undefined ? {} : { cursor }) } } })
    t.equal(page.response.status, 200)
    seen.push(...page.data!.items)
    cursor = page.data!.next_cursor ?? undefined
  } while (cursor !== undefined)
  t.same(seen.map((task) => task.title), ['Chore 0', 'Chore 10', 'Chore 2', 'Chore 4', 'Chore 6', 'Chore 8'])

  // Update with If-Match; a stale ETag is 412, recovered by re-reading.
  const taskId = created.data!.id
  const path = { user_id: 'me', task_id: taskId }
  const read = await api.GET('/api/{user_id}/tasks/{task_id}', { params: { path } })
  const etag = etagOf(read.response)!
  const first = await api.PATCH('/api/{user_id}/tasks/{task_id}', { params: { path, header: { 'If-Match': etag } }, body: { description: 'Numbers from finance' } })
  t.equal(first.response.status, 200)
  const stale = await api.PATCH('/api/{user_id}/tasks/{task_id}', { params: { path, header: { 'If-Match': etag } }, body: { priority: 'low' } })
  t.equal(stale.response.status, 412)
  t.equal(stale.error?.type, 'urn:todo-contract:problem:precondition-failed')
  const fresh = await api.GET('/api/{user_id}/tasks/{task_id}', { params: { path } })
  const recovered = await api.PATCH('/api/{user_id}/tasks/{task_id}', { params: { path, header: { 'If-Match': etagOf(fresh.response)! } }, body: { priority: 'low' } })
  t.equal(recovered.response.status, 200)
  t.match(recovered.data, { description: 'Numbers from finance', priority: 'low', version: 3 })

  const notModified = await api.GET('/api/{user_id}/tasks/{task_id}', { params: { path, header: { 'If-None-Match': etagOf(recovered.response)! } } })
  t.equal(notModified.response.status, 304)

  const completed = await api.PATCH('/api/{user_id}/tasks/{task_id}/complete', { params: { path }, body: { completed: true } })
  t.equal(completed.data?.completed, true)
  const done = await api.GET('/api/{user_id}/tasks', { params: { path: me, query: { status: 'completed' } } })
  t.same(done.data?.items.map((task) => task.id), [taskId])

  const removed = await api.DELETE('/api/{user_id}/tasks/{task_id}', { params: { path } })
  t.equal(removed.response.status, 204)
  const gone = await api.GET('/api/{user_id}/tasks/{task_id}', { params: { path } })
  t.equal(gone.response.status, 404)
  t.equal(gone.error?.type, 'urn:todo-contract:problem:not-found')
  const inTrash = await api.GET('/api/{user_id}/trash', { params: { path: me } })
  t.same(inTrash.data?.items.map((task) => task.id), [taskId], 'the trash holds it')
  t.ok(inTrash.data?.items[0]?.deleted_at)
  const restored = await api.POST('/api/{user_id}/tasks/{task_id}/restore', { params: { path } })
  t.equal(restored.data?.deleted_at, null)
  const cleared = await api.POST('/api/{user_id}/tasks/clear-completed', { params: { path: me } })
  t.equal(cleared.data?.trashed, 1, 'the completed task went back to the trash')
  const purged = await api.DELETE('/api/{user_id}/trash/{task_id}', { params: { path } })
  t.equal(purged.response.status, 204)

  // Offline sync: a full sync in small pages, then only what changed since.
  const full = await syncAll(api, undefined, { limit: 2 })
  const listed = await api.GET('/api/{user_id}/tasks', { params: { path: me, query: { status: 'all', limit: 100 } } })
  const trash = await api.GET('/api/{user_id}/trash', { params: { path: me } })
  t.same(full.tasks.map((task) => task.id).sort(), [...listed.data!.items, ...trash.data!.items].map((task) => task.id).sort(), 'a full sync holds every task, the trash included')
  t.same(full.categories.map((c) => c.name).sort(), ['Home', 'Work'])
  const offline = await api.POST('/api/{user_id}/tasks', { params: { path: me }, body: { title: 'Written while the client was away' } })
  await api.DELETE('/api/{user_id}/categories/{category_id}', { params: { path: { ...me, category_id: home.data!.id } } })
  const since = await syncAll(api, full.nextToken)
  t.ok(since.tasks.some((task) => task.id === offline.data!.id), 'the new task')
  t.same(since.deleted.categories, [home.data!.id], 'the deleted category')
  t.same((await syncAll(api, since.nextToken)).tasks, [], 'nothing twice')
  const forged = await syncAll(api, 'forged').catch((error: unknown) => error)
  t.ok(forged instanceof SyncError && forged.status === 400 && forged.problem?.type === 'urn:todo-contract:problem:invalid-cursor', 'a bad token is a SyncError with its problem')

  // Live events through the SDK's client: fetch streaming, the token in the header.
  const stop = new AbortController()
  const received: TodoEvent[] = []
  const listening = (async () => { for await (const event of streamEvents(api, { signal: stop.signal })) received.push(event) })()
  await streamsRegistered(sharedDb(t), userId, 1)
  const live = await settlesWithin(api.POST('/api/{user_id}/tasks', { params: { path: me }, body: { title: 'Seen live' } }), 10_000, 'the task created while streaming')
  const until = Date.now() + 5_000
  while (received.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
  stop.abort()
  await settlesWithin(listening, 10_000, `streamEvents, aborted after ${received.length} events`)
  t.match(received[0], { type: 'task.created', data: { id: live.data!.id, title: 'Seen live' } }, 'streamEvents yields the event')
  const resumed = streamEvents(api, { lastEventId: '9'.repeat(20) })
  const unopened = await settlesWithin(resumed.next(), 10_000, 'a stream opened after the newest event').catch((error: unknown) => error)
  t.ok(unopened instanceof StreamError && unopened.status === 400, 'a stream that cannot open is a StreamError', { found: String(unopened) })

  // An offline queue, sent as one atomic batch with ids chosen on the client, retried safely.
  const errands = randomUUID()
  const milk = randomUUID()
  const queue = {
    atomic: true,
    operations: [
      { op: 'create_category' as const, ref: 'errands', body: { id: errands, name: 'Errands' } },
      { op: 'create_task' as const, ref: 'milk', body: { id: milk, title: 'Buy milk', category_id: errands } },
      { op: 'set_completion' as const, ref: 'bought', id: milk, if_match: '"1"', body: { completed: true } }
    ]
  }
  const sent = await runBatch(api, queue, { idempotencyKey: `queue-${userId}` })
  t.equal(sent.response.status, 200)
  t.equal(sent.data?.committed, true)
  t.same(sent.data?.results.map((result) => [result.ref, result.status, result.etag]), [['errands', 201, null], ['milk', 201, '"1"'], ['bought', 200, '"2"']])
  const resent = await runBatch(api, queue, { idempotencyKey: `queue-${userId}` })
  t.equal(resent.response.headers.get('idempotent-replayed'), 'true')

  const invalid = await api.POST('/api/{user_id}/tasks', { params: { path: me }, body: { title: 'x'.repeat(300) } })
  t.equal(invalid.response.status, 400)
  t.same(invalid.error?.errors?.map((e) => 'pointer' in e ? e.pointer : undefined), ['/title'])

  const anonymous = createTodoClient({ baseUrl: server.baseUrl, token: 'not-a-token' })
  const refused = await anonymous.GET('/api/me')
  t.equal(refused.response.status, 401)
  t.equal(refused.error?.type, 'urn:todo-contract:problem:unauthorized')

  t.equal(await server.stop(), 0)
})
