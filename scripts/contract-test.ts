/**
 * npm run contract-test -- --url <base> --token <jwt>
 *
 * Contract tests for a live deployment: a read-mostly journey over every operation, each
 * response checked against openapi.yaml (status, declared headers, content type, body).
 * It creates one category and one task of its own and deletes them again. Prints a
 * PASS/FAIL line per check and a closing "N passed, N failed"; exits 1 on any failure,
 * and when an operation of openapi.yaml was not exercised (a new operation cannot ship
 * without its contract test).
 */
import '../src/node-version.js'
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { contractViolations, findOperation } from '../src/contract/conformance.js'
import { listOperations } from '../src/contract/index.js'

interface Result { status: number, headers: Record<string, string>, body: string, json: any }

const { values } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' } } })
if (values.url === undefined || values.token === undefined) {
  process.stderr.write('usage: npm run contract-test -- --url <base url> --token <jwt>\n')
  process.exit(2)
}
const base = values.url.replace(/\/+$/, '')
const auth = { authorization: `Bearer ${values.token}` }
let passed = 0
let failed = 0
/** Operations the journey has called, whatever they answered. */
const exercised = new Set<string>()

/** The contract's operations the journey never called. */
const unexercised = (called: ReadonlySet<string>): string[] => listOperations().map((o) => o.operationId).filter((id) => !called.has(id))

async function call (method: string, path: string, options: { headers?: Record<string, string>, body?: unknown, contentType?: string } = {}): Promise<Result> {
  const headers: Record<string, string> = { ...options.headers }
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['content-type'] = options.contentType ?? 'application/json'
  }
  const response = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await response.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: response.status, headers: Object.fromEntries(response.headers), body: text, json }
}

/** One checked request: the expected status, and conformance to the contract. */
async function check (label: string, method: string, path: string, expected: number, options: Parameters<typeof call>[2] = {}): Promise<Result> {
  const result = await call(method, path, options)
  const problems = contractViolations(method, path, { status: result.status, headers: result.headers, body: result.body })
  if (result.status !== expected) problems.unshift(`expected ${expected}, got ${result.status}`)
  const operation = findOperation(method, path)?.operationId ?? `${method} ${path}`
  exercised.add(operation)
  if (problems.length === 0) {
    passed++
    process.stdout.write(`PASS ${operation} ${label} (${result.status})\n`)
  } else {
    failed++
    process.stdout.write(`FAIL ${operation} ${label}: ${problems.join('; ')}\n`)
  }
  return result
}

/** The event stream opens: 200, text/event-stream, `retry:` first; then the connection is dropped. */
async function checkStream (): Promise<void> {
  exercised.add('streamEvents')
  const abort = new AbortController()
  const timer = setTimeout(() => { abort.abort() }, 10_000)
  let problem: string | undefined
  try {
    const response = await fetch(`${base}/api/me/events`, { headers: { ...auth, accept: 'text/event-stream' }, signal: abort.signal })
    const reader = response.body?.getReader()
    const first = reader === undefined ? undefined : new TextDecoder().decode((await reader.read()).value)
    if (response.status !== 200) problem = `expected 200, got ${response.status}`
    else if (response.headers.get('content-type')?.startsWith('text/event-stream') !== true) problem = `content-type ${String(response.headers.get('content-type'))}`
    else if (first?.startsWith('retry:') !== true) problem = `the stream does not start with retry: (${JSON.stringify(first)})`
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error)
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
  if (problem === undefined) { passed++; process.stdout.write('PASS streamEvents opens (200)\n') } else { failed++; process.stdout.write(`FAIL streamEvents opens: ${problem}\n`) }
}

async function journey (): Promise<void> {
  await check('liveness', 'GET', '/health', 200)
  await check('readiness', 'GET', '/ready', 200)
  await check('the contract', 'GET', '/openapi.json', 200)
  await check('the contract', 'GET', '/openapi.yaml', 200)
  await check('the documentation', 'GET', '/docs', 200)
  await check('no token', 'GET', '/api/me', 401)
  const me = await check('the caller', 'GET', '/api/me', 200, { headers: auth })
  // The caller's own zone sent back: a settings write that changes nothing.
  await check('settings, unchanged', 'PATCH', '/api/me', 200, { headers: auth, body: { time_zone: me.json?.time_zone ?? null }, contentType: 'application/merge-patch+json' })
  await check('someone else\'s path', 'GET', `/api/${encodeURIComponent(`not-${String(me.json?.id)}`)}/tasks`, 403, { headers: auth })
  await check('categories', 'GET', '/api/me/categories', 200, { headers: auth })
  const exported = await check('export', 'GET', '/api/me/export', 200, { headers: auth })
  await check('account deletion, unconfirmed', 'DELETE', '/api/me', 428, { headers: auth })
  const synced = await check('sync, first page', 'GET', '/api/me/sync?limit=1', 200, { headers: auth })
  await check('sync, continued', 'GET', `/api/me/sync?limit=1&since=${encodeURIComponent(String(synced.json?.next_token))}`, 200, { headers: auth })
  await check('forged sync token', 'GET', '/api/me/sync?since=forged', 400, { headers: auth })
  await checkStream()
  await check('malformed Last-Event-ID', 'GET', '/api/me/events', 400, { headers: { ...auth, 'last-event-id': 'not-an-id' } })
  // Webhooks, read-only and refusals: a journey cannot count on a public receiver.
  await check('webhooks', 'GET', '/api/me/webhooks', 200, { headers: auth })
  await check('a loopback target', 'POST', '/api/me/webhooks', 400, { headers: auth, body: { url: 'https://127.0.0.1/hook', events: ['*'] } })
  await check('missing', 'GET', `/api/me/webhooks/${randomUUID()}`, 404, { headers: auth })
  await check('deliveries of a missing webhook', 'GET', `/api/me/webhooks/${randomUUID()}/deliveries`, 404, { headers: auth })
  await check('update a missing one', 'PATCH', `/api/me/webhooks/${randomUUID()}`, 404, { headers: auth, body: { enabled: false }, contentType: 'application/merge-patch+json' })
  await check('delete a missing one', 'DELETE', `/api/me/webhooks/${randomUUID()}`, 404, { headers: auth })

  const category = await check('create', 'POST', '/api/me/categories', 201, { headers: auth, body: { name: `contract-test ${randomUUID().slice(0, 8)}`, color: '#123456' } })
  const categoryPath = `/api/me/categories/${String(category.json?.id)}`
  let taskPath: string | undefined
  try {
    await check('duplicate name', 'POST', '/api/me/categories', 409, { headers: auth, body: { name: category.json?.name } })
    // The account holds a category now: an import into it is refused and changes nothing.
    await check('import into an account in use', 'POST', '/api/me/import', 409, { headers: auth, body: exported.body })
    await check('read', 'GET', categoryPath, 200, { headers: auth })
    await check('rename', 'PATCH', categoryPath, 200, { headers: auth, body: { name: `${String(category.json?.name)} renamed` }, contentType: 'application/merge-patch+json' })

    const key = randomUUID()
    const body = { title: 'contract-test task', tags: ['Contract'], category_id: category.json?.id }
    const task = await check('create', 'POST', '/api/me/tasks', 201, { headers: { ...auth, 'idempotency-key': key }, body })
    taskPath = `/api/me/tasks/${String(task.json?.id)}`
    const replay = await check('idempotent replay', 'POST', '/api/me/tasks', 201, { headers: { ...auth, 'idempotency-key': key }, body })
    if (replay.headers['idempotent-replayed'] !== 'true' || replay.json?.id !== task.json?.id) { failed++; process.stdout.write('FAIL createTask replay: not the original response\n') }
    await check('invalid body', 'POST', '/api/me/tasks', 400, { headers: auth, body: { title: '' } })
    await check('wrong media type', 'POST', '/api/me/tasks', 415, { headers: auth, body: 'title=x', contentType: 'text/plain' })
    const read = await check('read', 'GET', taskPath, 200, { headers: auth })
    await check('not modified', 'GET', taskPath, 304, { headers: { ...auth, 'if-none-match': read.headers.etag ?? '' } })
    await check('missing', 'GET', `/api/me/tasks/${randomUUID()}`, 404, { headers: auth })
    const patched = await check('merge patch with If-Match', 'PATCH', taskPath, 200, { headers: { ...auth, 'if-match': read.headers.etag ?? '' }, body: { priority: 'high' }, contentType: 'application/merge-patch+json' })
    await check('stale If-Match', 'PATCH', taskPath, 412, { headers: { ...auth, 'if-match': read.headers.etag ?? '' }, body: { priority: 'low' } })
    await check('replace', 'PUT', taskPath, 200, { headers: { ...auth, 'if-match': patched.headers.etag ?? '' }, body: { ...body, description: 'replaced' } })
    await check('toggle', 'PATCH', `${taskPath}/complete`, 200, { headers: auth })
    await check('set', 'PATCH', `${taskPath}/complete`, 200, { headers: auth, body: { completed: false } })
    // Schedules: a recurring all-day task with a reminder advances when completed.
    await check('an unknown recurrence rule', 'POST', '/api/me/tasks', 400, { headers: auth, body: { title: 'contract-test', due_date: '2030-01-07', recurrence_rule: 'FREQ=HOURLY' } })
    const recurring = await check('recurring, with a reminder', 'POST', '/api/me/tasks', 201, { headers: auth, body: { title: 'contract-test recurring', due_date: '2030-01-07', recurrence_rule: 'FREQ=WEEKLY', reminders: [{ before_due: 'PT1H' }] } })
    const recurringPath = `/api/me/tasks/${String(recurring.json?.id)}`
    await check('advance', 'PATCH', `${recurringPath}/complete`, 200, { headers: auth })
    await check('completions', 'GET', `${recurringPath}/completions?limit=1`, 200, { headers: auth })
    await check('the today view', 'GET', '/api/me/tasks?due=today&sort=due_at&order=asc&limit=1', 200, { headers: auth })
    // Subtasks and the manual order: a step under the recurring task, moved first, listed.
    const step = await check('a subtask', 'POST', '/api/me/tasks', 201, { headers: auth, body: { title: 'contract-test step', parent_id: recurring.json?.id } })
    await check('a subtask under a missing parent', 'POST', '/api/me/tasks', 422, { headers: auth, body: { title: 'contract-test orphan', parent_id: randomUUID() } })
    await check('move first', 'POST', `/api/me/tasks/${String(step.json?.id)}/move`, 200, { headers: auth, body: { parent_id: recurring.json?.id, after_id: null } })
    await check('move after itself', 'POST', `/api/me/tasks/${String(step.json?.id)}/move`, 422, { headers: auth, body: { parent_id: recurring.json?.id, after_id: step.json?.id } })
    await check('the children in order', 'GET', `/api/me/tasks?parent_id=${String(recurring.json?.id)}&sort=position`, 200, { headers: auth })
    // Trashed and purged with its parent.
    await check('clean up', 'DELETE', recurringPath, 204, { headers: auth })
    await check('clean up: purge', 'DELETE', recurringPath.replace('/tasks/', '/trash/'), 204, { headers: auth })
    const batch = await check('batch', 'POST', '/api/me/batch', 200, { headers: auth, body: { operations: [{ op: 'update_task', ref: 'contract', id: task.json?.id, body: { priority: 'medium' } }, { op: 'restore_task', id: randomUUID() }] } })
    const statuses = (batch.json?.results as Array<{ status: number }> | undefined)?.map((result) => result.status).join(',')
    if (statuses !== '200,404') { failed++; process.stdout.write(`FAIL runBatch results: ${String(statuses)}, expected 200,404\n`) }
    await check('batch: malformed envelope', 'POST', '/api/me/batch', 400, { headers: auth, body: { operations: {} } })
    const page = await check('filtered first page', 'GET', `/api/me/tasks?category_id=${String(category.json?.id)}&tag=contract&q=contract&sort=title&order=asc&limit=1`, 200, { headers: auth })
    if (page.json?.items?.length !== 1) { failed++; process.stdout.write('FAIL listTasks: the task is not listed\n') }
    await check('bad cursor', 'GET', '/api/me/tasks?cursor=forged', 400, { headers: auth })
    await check('bad limit', 'GET', '/api/me/tasks?limit=1000', 400, { headers: auth })
    // The task is open again: clearing this category's completed tasks moves nothing.
    await check('clear completed (none)', 'POST', `/api/me/tasks/clear-completed?category_id=${String(category.json?.id)}`, 200, { headers: auth })
    await check('to the trash', 'DELETE', taskPath, 204, { headers: auth })
    await check('gone from the task routes', 'GET', taskPath, 404, { headers: auth })
    await check('the trash', 'GET', '/api/me/trash?limit=1', 200, { headers: auth })
    await check('restore', 'POST', `${taskPath}/restore`, 200, { headers: auth })
  } finally {
    if (taskPath !== undefined) {
      // Cleaned up for good: into the trash, then purged from it.
      await check('clean up', 'DELETE', taskPath, 204, { headers: auth })
      await check('clean up: purge', 'DELETE', taskPath.replace('/tasks/', '/trash/'), 204, { headers: auth })
    }
    await check('clean up', 'DELETE', categoryPath, 204, { headers: auth })
  }
}

journey().then(() => {
  const missing = unexercised(exercised)
  if (missing.length === 0) process.stdout.write(`PASS every operation of openapi.yaml exercised (${exercised.size})\n`)
  for (const operationId of missing) { failed++; process.stdout.write(`FAIL ${operationId}: not exercised by the journey\n`) }
  process.stdout.write(`${passed} passed, ${failed} failed\n`)
  process.exit(failed === 0 ? 0 : 1)
}, (error: unknown) => {
  process.stdout.write(`FAIL journey aborted: ${error instanceof Error ? error.message : String(error)}\n${passed} passed, ${failed + 1} failed\n`)
  process.exit(1)
})
