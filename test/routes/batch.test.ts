/**
 * runBatch (API.md part two, "Batch"): each operation answers what its single request would,
 * in order, in one transaction; atomic batches store all or nothing; only a malformed
 * envelope fails the whole request.
 */
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { buildTestApp, testConfig } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { sharedServiceDatabase, sharedDb } from '../helpers/database.js'
import { createCategory, createTask, newUser, type TestUser } from '../helpers/factories.js'

const BATCH = '/api/me/batch'

type Operation = Record<string, unknown>
interface Result { ref: string | null, status: number, body: any, etag: string | null }

async function batch (t: Test, app: FastifyInstance, user: TestUser, payload: unknown, headers: Record<string, string> = {}): Promise<{ statusCode: number, committed: boolean, results: Result[], headers: Record<string, unknown> }> {
  const response = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, ...headers }, payload: payload as object })
  const body = response.statusCode === 200 ? response.json() : {}
  return { statusCode: response.statusCode, committed: body.committed, results: body.results, headers: response.headers }
}

/** What the single request of an operation is, so a test can send it alone. */
function single (operation: Operation): { method: string, url: string, payload?: object, headers: Record<string, string> } {
  const id = operation.id as string
  const routes: Record<string, [string, string, string?]> = {
    create_task: ['POST', '/api/me/tasks'],
    update_task: ['PATCH', `/api/me/tasks/${id}`, 'application/merge-patch+json'],
    set_completion: ['PATCH', `/api/me/tasks/${id}/complete`],
    delete_task: ['DELETE', `/api/me/tasks/${id}`],
    restore_task: ['POST', `/api/me/tasks/${id}/restore`],
    create_category: ['POST', '/api/me/categories'],
    update_category: ['PATCH', `/api/me/categories/${id}`, 'application/merge-patch+json'],
    delete_category: ['DELETE', `/api/me/categories/${id}`]
  }
  const [method, url, mediaType] = routes[operation.op as string] as [string, string, string?]
  const headers: Record<string, string> = {}
  if (operation.if_match !== undefined) headers['if-match'] = operation.if_match as string
  if (operation.body === undefined) return { method, url, headers }
  headers['content-type'] = mediaType ?? 'application/json'
  return { method, url, headers, payload: Buffer.from(JSON.stringify(operation.body)) }
}

/** A response body with what differs between two users and two moments (owner, clocks) blanked. */
function comparable (body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body
  if (Array.isArray(body)) return body.map(comparable)
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key,
    key === 'user_id' ? 'owner' : key.endsWith('_at') && typeof value === 'string' ? 'a time' : comparable(value)]))
}

async function taskIds (t: Test, userId: string): Promise<string[]> {
  const rows = await sharedDb(t).selectFrom('tasks').select('id').where('user_id', '=', userId).orderBy('created_at').execute()
  return rows.map((row) => row.id)
}

t.test('runBatch', async (t) => {
  const app = await buildTestApp(t)

  t.test('answers for each operation what its single request answers, in order, later ones using ids chosen earlier', async (t) => {
    const categoryId = randomUUID()
    const taskId = randomUUID()
    const operations: Operation[] = [
      { op: 'create_category', ref: 'c', body: { id: categoryId, name: 'Garden', color: '#43A047' } },
      { op: 'create_task', ref: 't', body: { id: taskId, title: '  Water the plants ', category_id: categoryId, tags: ['Home', 'home'] } },
      { op: 'update_task', ref: 'u', id: taskId, if_match: '"1"', body: { priority: 'high', description: null } },
      { op: 'update_task', ref: 'stale', id: taskId, if_match: '"1"', body: { title: 'Lost update' } },
      { op: 'set_completion', ref: 'done', id: taskId, body: { completed: true } },
      { op: 'set_completion', ref: 'toggle', id: taskId },
      { op: 'update_task', ref: 'too long', id: taskId, body: { title: 'x'.repeat(201) } },
      { op: 'restore_task', ref: 'not trashed', id: taskId },
      { op: 'delete_task', ref: 'trash', id: taskId, if_match: '"4"' },
      { op: 'restore_task', ref: 'restore', id: taskId },
      { op: 'update_task', ref: 'bad id', id: 'not-a-uuid', body: { title: 'x' } },
      { op: 'update_category', ref: 'rename', id: categoryId, body: { name: 'Yard' } },
      { op: 'create_category', ref: 'same name', body: { name: 'yard' } },
      { op: 'delete_category', ref: 'drop', id: categoryId },
      { op: 'delete_category', ref: 'gone', id: categoryId },
      { op: 'create_task', ref: 'unknown category', body: { title: 'x', category_id: categoryId } }
    ]
    const user = newUser()
    const response = await batch(t, app, user, { operations })
    t.equal(response.statusCode, 200)
    t.equal(response.committed, true)
    t.equal(response.results.length, operations.length, 'one result per operation')

    // The same requests, one by one, by another user (ids are per user: the same ones work).
    const alone = newUser()
    for (const [index, operation] of operations.entries()) {
      const request = single(operation)
      const expected = await inject(t, app, { ...request, headers: { ...alone.headers, ...request.headers } })
      const result = response.results[index] as Result
      const label = `${index} ${operation.ref as string}`
      t.equal(result.ref, operation.ref, `${label}: ref echoed`)
      t.equal(result.status, expected.statusCode, `${label}: status ${expected.statusCode}`)
      t.same(comparable(result.body), comparable(expected.body === '' ? null : expected.json()), `${label}: body`)
      t.equal(result.etag, expected.headers.etag ?? null, `${label}: etag`)
    }
    t.same(response.results.map((result) => result.status), [201, 201, 200, 412, 200, 200, 400, 404, 204, 200, 400, 200, 409, 204, 404, 422])
    const task = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${taskId}`, headers: user.headers })
    t.match(task.json(), { title: 'Water the plants', priority: 'high', completed: false, category_id: null, tags: ['home'] }, 'every successful change is stored')
  })

  t.test('an atomic batch stores all or nothing: the failing operation keeps its problem, the others are 424', async (t) => {
    const user = newUser()
    const kept = await createTask(t, app, user, { title: 'Before' })
    const operations = [
      { op: 'create_task', ref: 'a', body: { title: 'First' } },
      { op: 'update_task', id: kept.id, body: { title: 'Renamed' } },
      { op: 'update_task', ref: 'missing', id: randomUUID(), body: { title: 'x' } },
      { op: 'create_task', ref: 'c', body: { title: 'Never run' } }
    ]
    const response = await batch(t, app, user, { atomic: true, operations })
    t.equal(response.statusCode, 200)
    t.equal(response.committed, false)
    t.same(response.results.map((result) => [result.ref, result.status, result.etag]), [['a', 424, null], [null, 424, null], ['missing', 404, null], ['c', 424, null]])
    t.equal(response.results[2]?.body.type, 'urn:todo-contract:problem:not-found')
    t.match(response.results[0]?.body, { type: 'urn:todo-contract:problem:failed-dependency', status: 424, title: 'Failed dependency' })
    t.same(await taskIds(t, user.id), [kept.id], 'nothing stored')
    t.match((await inject(t, app, { method: 'GET', url: `/api/me/tasks/${kept.id as string}`, headers: user.headers })).json(), { title: 'Before', version: 1 })

    const succeeded = await batch(t, app, user, { atomic: true, operations: [operations[0], operations[1], operations[3]] })
    t.equal(succeeded.committed, true)
    t.same(succeeded.results.map((result) => result.status), [201, 200, 201])
    t.equal((await taskIds(t, user.id)).length, 3, 'all stored')
  })

  t.test('an atomic batch rolls back after an operation that failed in SQL (a category that is not the caller\'s)', async (t) => {
    const user = newUser()
    const foreign = await createCategory(t, app, newUser())
    const response = await batch(t, app, user, { atomic: true, operations: [{ op: 'create_task', body: { title: 'a' } }, { op: 'create_task', body: { title: 'b', category_id: foreign.id } }] })
    t.same(response.results.map((result) => result.status), [424, 422])
    t.same(await taskIds(t, user.id), [])
  })

  t.test('without atomic, a failing operation leaves no trace and the next one still runs, even after an SQL error', async (t) => {
    const user = newUser()
    const foreign = await createCategory(t, app, newUser())
    const response = await batch(t, app, user, {
      operations: [
        { op: 'create_task', ref: 'a', body: { title: 'a' } },
        { op: 'create_task', ref: 'b', body: { title: 'b', category_id: foreign.id } },
        { op: 'create_task', ref: 'c', body: { title: 'c' } }
      ]
    })
    t.equal(response.committed, true)
    t.same(response.results.map((result) => result.status), [201, 422, 201])
    t.same(response.results[1]?.body.errors, [{ pointer: '/category_id', detail: 'is not one of your categories' }])
    // One transaction: both rows share created_at, so compare the ids as sets.
    t.same((await taskIds(t, user.id)).sort(), [response.results[0]?.body.id, response.results[2]?.body.id].sort(), 'the first and the third stored')
  })

  t.test('another user\'s ids are 404 results, and their data never changes', async (t) => {
    const victim = newUser('victim')
    const category = await createCategory(t, app, victim)
    const task = await createTask(t, app, victim, { title: 'Private', category_id: category.id })
    const attacker = newUser('attacker')
    const response = await batch(t, app, attacker, {
      operations: [
        { op: 'update_task', id: task.id, if_match: '*', body: { title: 'Mine now' } },
        { op: 'set_completion', id: task.id, body: { completed: true } },
        { op: 'delete_task', id: task.id },
        { op: 'restore_task', id: task.id },
        { op: 'update_category', id: category.id, body: { name: 'Mine' } },
        { op: 'delete_category', id: category.id },
        { op: 'create_task', body: { id: task.id, title: 'Same id, another user' } }
      ]
    })
    t.same(response.results.map((result) => result.status), [404, 404, 404, 404, 404, 404, 201])
    const seen = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}`, headers: victim.headers })
    t.match(seen.json(), { title: 'Private', completed: false, category_id: category.id, version: 1 })
  })

  t.test('operations: [] is 200 with no results', async (t) => {
    const response = await batch(t, app, newUser(), { operations: [] })
    t.equal(response.statusCode, 200)
    t.same([response.committed, response.results], [true, []])
    t.same((await batch(t, app, newUser(), { atomic: true, operations: [] })).committed, true)
  })

  t.test('a bad element is a 400 result of its own; the others run', async (t) => {
    const user = newUser()
    const response = await batch(t, app, user, {
      operations: [
        42,
        { ref: 'no op' },
        { op: 'archive_task', ref: 'unknown op', id: randomUUID() },
        { op: 'move_task', id: randomUUID() },
        { op: 'create_task', id: randomUUID(), body: { title: 'id belongs in the body' } },
        { op: 'delete_task', id: randomUUID(), body: {} },
        { op: 'update_task', body: { title: 'which one?' } },
        { op: 'restore_task', id: randomUUID(), if_match: '"1"' },
        { op: 'create_task', body: { title: 'fine' }, extra: true },
        { op: 'create_task', ref: 'ok', body: { title: 'fine' } }
      ]
    })
    t.equal(response.statusCode, 200)
    const pointers = response.results.map((result) => result.status === 400 ? (result.body.errors as Array<{ pointer: string }>).map((error) => error.pointer) : result.status)
    t.same(pointers, [
      ['/operations/0'],
      ['/operations/1/op'],
      ['/operations/2/op'],
      ['/operations/3/body'],
      ['/operations/4/id'],
      ['/operations/5/body'],
      ['/operations/6/id'],
      ['/operations/7/if_match'],
      ['/operations/8/extra'],
      201
    ])
    t.same(response.results.slice(0, 3).map((result) => result.ref), [null, 'no op', 'unknown op'])
    t.match(response.results[2]?.body, { type: 'urn:todo-contract:problem:validation-failed', status: 400, instance: BATCH })
    t.equal((await taskIds(t, user.id)).length, 1)
  })

  t.test('a whole-request 400 for a malformed envelope, with nothing run', async (t) => {
    const user = newUser()
    const json = { ...user.headers, 'content-type': 'application/json' }
    const cases: Array<[string, string]> = [
      ['malformed JSON', '{"operations": ['],
      ['not an object', '[{"op": "create_task", "body": {"title": "x"}}]'],
      ['operations missing', '{}'],
      ['operations not an array', '{"operations": {"op": "create_task"}}'],
      ['atomic not a boolean', '{"atomic": "yes", "operations": []}'],
      ['an unknown envelope member', '{"operations": [], "dry_run": true}'],
      ['more than 100 operations', JSON.stringify({ operations: Array.from({ length: 101 }, () => ({ op: 'create_task', body: { title: 'x' } })) })]
    ]
    for (const [label, payload] of cases) {
      const response = await inject(t, app, { method: 'POST', url: BATCH, headers: json, payload })
      t.equal(response.statusCode, 400, label)
      t.equal(response.json().type, 'urn:todo-contract:problem:validation-failed', label)
    }
    t.same(await taskIds(t, user.id), [])
    const hundred = await batch(t, app, user, { operations: Array.from({ length: 100 }, (_, i) => ({ op: 'create_task', body: { title: `task ${i}` } })) })
    t.equal(hundred.results.length, 100, '100 operations are fine')
  })

  t.test('401, 403, 415 and 413 for the whole request', async (t) => {
    const user = newUser()
    const payload = { operations: [{ op: 'create_task', body: { title: 'x' } }] }
    t.equal((await inject(t, app, { method: 'POST', url: BATCH, payload })).statusCode, 401)
    const other = await inject(t, app, { method: 'POST', url: `/api/${encodeURIComponent(newUser().id)}/batch`, headers: user.headers, payload })
    t.equal(other.statusCode, 403)
    const text = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, 'content-type': 'text/plain' }, payload: JSON.stringify(payload) })
    t.equal(text.statusCode, 415)
    const huge = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, 'content-type': 'application/json' }, payload: JSON.stringify({ operations: [], pad: ' '.repeat(4 * 1024 * 1024) }) })
    t.equal(huge.statusCode, 413)
    t.same(await taskIds(t, user.id), [])
  })

  t.test('takes 100 of the largest task bodies (above the 1 MiB of single requests)', async (t) => {
    const user = newUser()
    // Code points outside the BMP, as JSON escapes (12 bytes each): the largest a body can be.
    const wide = (n: number): string => '\\ud83d\\ude00'.repeat(n)
    const body = `{"title":"${wide(200)}","description":"${wide(1000)}","tags":[${Array.from({ length: 20 }, () => `"${wide(40)}"`).join(',')}],"priority":"medium","due_at":null,"category_id":null,"completed":false}`
    const payload = `{"atomic":true,"operations":[${Array.from({ length: 100 }, () => `{"op":"create_task","ref":"${'r'.repeat(255)}","body":${body}}`).join(',')}]}`
    t.ok(payload.length > 2 * 1024 * 1024, `a ${payload.length}-byte batch`)
    const response = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, 'content-type': 'application/json' }, payload })
    t.equal(response.statusCode, 200)
    t.same(new Set(response.json().results.map((result: Result) => result.status)), new Set([201]))
  })

  t.test('with Idempotency-Key, a retry replays the whole response and runs nothing twice', async (t) => {
    const user = newUser()
    const headers = { 'idempotency-key': randomUUID() }
    const payload = { operations: [{ op: 'create_task', ref: 'a', body: { title: 'Once' } }, { op: 'update_task', id: randomUUID(), body: { title: 'x' } }] }
    const first = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, ...headers }, payload })
    t.equal(first.statusCode, 200)
    t.same(first.json().results.map((result: Result) => result.status), [201, 404])
    const again = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, ...headers }, payload })
    t.equal(again.statusCode, 200)
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.equal(again.body, first.body)
    t.equal((await taskIds(t, user.id)).length, 1, 'created once')
    const other = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, ...headers }, payload: { operations: [] } })
    t.equal(other.statusCode, 422, 'the same key with another body')

    // A failed atomic batch is a response like any other: stored and replayed, nothing stored.
    const atomic = { atomic: true, operations: [{ op: 'create_task', body: { title: 'a' } }, { op: 'delete_task', id: randomUUID() }] }
    const key = { 'idempotency-key': randomUUID() }
    const failed = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, ...key }, payload: atomic })
    t.equal(failed.json().committed, false)
    const replayed = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, ...key }, payload: atomic })
    t.equal(replayed.body, failed.body)
    t.equal((await taskIds(t, user.id)).length, 1)
  })

  t.test('the response echoes X-Request-Id; a problem of an operation names its single request\'s path', async (t) => {
    const user = newUser()
    const response = await inject(t, app, { method: 'POST', url: BATCH, headers: { ...user.headers, 'x-request-id': 'batch-42' }, payload: { operations: [{ op: 'restore_task', id: randomUUID() }] } })
    t.equal(response.headers['x-request-id'], 'batch-42')
    t.equal(response.json().results[0].body.instance.startsWith('/api/me/tasks/'), true, 'a problem names the single request\'s path')
  })
})

t.test('runBatch against the rate limit', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PER_MINUTE: '5' } })

  t.test('a batch counts as its operations: past the limit, operations get the 429 of their single request', async (t) => {
    const user = newUser()
    const response = await batch(t, app, user, { operations: Array.from({ length: 6 }, (_, i) => ({ op: 'create_task', ref: String(i), body: { title: `task ${i}` } })) })
    t.equal(response.statusCode, 200)
    t.same(response.results.map((result) => result.status), [201, 201, 201, 201, 201, 429])
    t.equal(response.results[5]?.body.type, 'urn:todo-contract:problem:rate-limited')
    t.ok(Number(response.headers['retry-after']) > 0, 'Retry-After on the batch response')
    t.equal((await taskIds(t, user.id)).length, 5)
    const next = await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })
    t.equal(next.statusCode, 429, 'the minute is used up')
    const whole = await batch(t, app, user, { operations: [{ op: 'create_task', body: { title: 'x' } }] })
    t.equal(whole.statusCode, 429, 'a batch with nothing left is 429 as a whole')
  })

  t.test('a batch of 5 uses exactly 5', async (t) => {
    const user = newUser()
    const response = await batch(t, app, user, { operations: Array.from({ length: 5 }, (_, i) => ({ op: 'create_task', body: { title: `task ${i}` } })) })
    t.same(response.results.map((result) => result.status), [201, 201, 201, 201, 201])
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })).statusCode, 429)
  })

  t.test('an atomic batch over the limit stores nothing', async (t) => {
    const user = newUser()
    const response = await batch(t, app, user, { atomic: true, operations: Array.from({ length: 6 }, (_, i) => ({ op: 'create_task', body: { title: `task ${i}` } })) })
    t.same(response.results.map((result) => result.status), [424, 424, 424, 424, 424, 429])
    t.equal(response.committed, false)
    t.same(await taskIds(t, user.id), [])
  })

  t.test('requests from outside are never batch parts: each counts, whatever headers it carries', async (t) => {
    const user = newUser()
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      statuses.push((await inject(t, app, { method: 'GET', url: '/api/me', headers: { ...user.headers, 'x-request-id': 'batch-1', 'if-match': '"1"' } })).statusCode)
    }
    t.same(statuses, [200, 200, 200, 200, 200, 429])
  })
})

t.test('the operations\' in-process requests', async (t) => {
  t.test('log under the batch\'s request id, without access lines of their own', async (t) => {
    const lines: string[] = []
    const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
    const app = await buildTestApp(t, { logger: { level: 'info', stream } })
    const user = newUser()
    const response = await batch(t, app, user, { operations: [{ op: 'create_task', body: { title: 'a' } }, { op: 'delete_task', id: randomUUID() }] }, { 'x-request-id': 'batch-logs-1' })
    t.same(response.results.map((result) => result.status), [201, 404])
    const entries = lines.map((line) => JSON.parse(line) as { msg: string, request_id?: string, req?: { url: string } })
    const incoming = entries.filter((entry) => entry.msg === 'incoming request')
    t.same(incoming.map((entry) => entry.req?.url), [BATCH], 'one access line: the batch')
    t.same(new Set(entries.filter((entry) => entry.request_id !== undefined).map((entry) => entry.request_id)), new Set(['batch-logs-1']))
  })

  t.test('give no database to a part that authenticates as another user than the request running it (fail closed)', async (t) => {
    const app = await buildApp(testConfig(), { logger: false, database: sharedServiceDatabase(t) })
    t.teardown(async () => { await app.close() })
    const other = newUser()
    const parts: LightMyRequestResponse[] = []
    app.addHook('preHandler', async (request) => {
      const as = request.headers['x-test-part-as']
      if (request.batchPart !== null || typeof as !== 'string') return
      parts.push(await request.injectPart(request.db, { method: 'GET', url: '/api/me/tasks', headers: { authorization: as }, counted: true }))
    })
    await app.ready()
    const user = newUser()
    await createTask(t, app, user, { title: 'mine' })
    await inject(t, app, { method: 'GET', url: '/api/me', headers: { ...user.headers, 'x-test-part-as': user.headers.authorization as string } })
    await inject(t, app, { method: 'GET', url: '/api/me', headers: { ...user.headers, 'x-test-part-as': other.headers.authorization as string } })
    t.equal(parts[0]?.statusCode, 200, 'the same user: the part runs')
    t.equal(parts[0]?.json().items.length, 1)
    t.equal(parts[1]?.statusCode, 500, 'another user: no database at all')
  })
})
