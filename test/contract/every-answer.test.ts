/**
 * The contract never lies: random combinations of method, path parameters, query, headers
 * and body are sent to every operation of openapi.yaml (ANSWER_RUNS requests in all, 10,000
 * by default, spread evenly), and every answer must be declared for what was asked: its
 * status for the operation (or, for a method the path does not have, MethodNotAllowed with
 * `Allow`), every header the contract names only where it is declared, its content type,
 * and its body against the schema (src/contract/conformance.ts). A 500 is a failure even
 * though it is declared: it is what a drift becomes under RESPONSE_VALIDATION, which is on.
 * hostile-input.test.ts goes deeper into bodies; this one goes wide.
 */
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { contractViolations } from '../../src/contract/conformance.js'
import { dereferencedContract, listOperations } from '../../src/contract/index.js'
import { buildTestApp } from '../helpers/build-app.js'
import { createCategory, createTask, newUser } from '../helpers/factories.js'
import { bearer, newUserId, tokenFor } from '../helpers/tokens.js'
import { PUBLIC_ADDRESS, resolveTo } from '../helpers/webhooks.js'

const RUNS = Number(process.env.ANSWER_RUNS ?? 10_000)
const APP_ORIGIN = 'https://app.example.com'
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

interface Parameter { name: string, in: 'path' | 'query' | 'header' }
interface Request { method: string, url: string, headers: Record<string, string>, payload?: string }

const junk = fc.constantFrom('', ' ', '%00', 'a%00b', '%ZZ', '%E0%A4%A', 'x'.repeat(300), '..', '%2F', 'null', '-1', '1e999', '\u00e9t\u00e9', '%F0%9F%8E%89')
const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', '0', '1', '10', '100', '101', 'none', 'me', 'low', 'high', 'open', 'completed', 'all', 'asc', 'desc', 'position', 'due_at', 'created_at', 'title', '2026-01-01', '2026-01-01T00:00:00.000Z', 'milk'),
  fc.uuid(),
  junk
)
const headerValue = fc.constantFrom('', 'x', '"1"', '"2"', '*', 'W/"1"', '"1", "2"', 'garbage', 'x'.repeat(300), '00000000-0000-4000-8000-000000000000')
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/merge-patch+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1']

/** Bodies a client could mean (so some requests get past validation), by operation. */
const MEANT: Record<string, unknown[]> = {
  updateCurrentUser: [{ time_zone: 'Europe/Berlin' }, { time_zone: null }],
  createTask: [{ title: 'Buy milk' }, { title: 'Call', priority: 'high', tags: ['home'], due_at: '2026-12-01T09:00:00.000Z' }],
  replaceTask: [{ title: 'Replaced', description: null, priority: 'low', due_at: null, tags: [], category_id: null }],
  updateTask: [{ priority: 'high' }, { title: 'Renamed' }, { due_date: '2026-12-24' }],
  moveTask: [{ parent_id: null, after_id: null }],
  toggleTaskCompletion: [{ completed: true }, { completed: false }, {}],
  createCategory: [{ name: 'Work' }, { name: 'Home', color: '#1E88E5' }],
  updateCategory: [{ name: 'Renamed' }, { color: null }],
  runBatch: [{ operations: [{ op: 'create_task', body: { title: 'Batched' } }] }, { atomic: true, operations: [{ op: 'create_task', body: { title: '' } }] }],
  createWebhook: [{ url: 'https://hooks.example.com/todo', events: ['task.created'] }],
  updateWebhook: [{ description: 'Chat bot' }, { enabled: false }],
  importAccount: [{}]
}

t.test(`every answer of every operation is declared (${RUNS} requests)`, async (t) => {
  // Browser apps of one origin may call (x-cors): some requests come from it, some from
  // another, some as preflights.
  const app = await buildTestApp(t, { webhookResolve: resolveTo(PUBLIC_ADDRESS), env: { CORS_ORIGINS: APP_ORIGIN } })
  const operations = listOperations(dereferencedContract())
  const perOperation = Math.ceil(RUNS / operations.length)
  let sent = 0
  const statuses = new Map<string, Set<number>>()

  for (const { operationId, method, path, operation } of operations) {
    // A user of its own per operation, holding one of each thing an id can name.
    const user = newUser('answers')
    const task = await createTask(t, app, user, { title: 'Seeded' })
    const trashed = await createTask(t, app, user, { title: 'In the trash' })
    await app.inject({ method: 'DELETE', url: `/api/me/tasks/${trashed.id as string}`, headers: user.headers })
    const category = await createCategory(t, app, user)
    const webhook = (await app.inject({ method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url: 'https://hooks.example.com/seeded', events: ['task.created'] } })).json()
    const ids: Record<string, fc.Arbitrary<string>> = {
      user_id: fc.constantFrom('me', 'me', encodeURIComponent(user.id), encodeURIComponent(newUserId('someone-else'))),
      task_id: fc.constantFrom(task.id as string, task.id as string, task.id as string, trashed.id as string, randomUUID()),
      category_id: fc.constantFrom(category.id as string, category.id as string, category.id as string, randomUUID()),
      webhook_id: fc.constantFrom(webhook.id as string, webhook.id as string, webhook.id as string, randomUUID())
    }
    const parameters = (operation.parameters ?? []) as Parameter[]
    const queryNames = parameters.filter((p) => p.in === 'query').map((p) => p.name)
    const headerNames = parameters.filter((p) => p.in === 'header').map((p) => p.name)
    const pathNames = [...path.matchAll(/{(\w+)}/g)].map((m) => m[1] as string)
    const takesBody = operation.requestBody !== undefined

    // Another method is one the path does not have (405): a sibling operation's success (a
    // DELETE of the seeded task) would take away what this operation's requests name.
    const otherMethods = METHODS.filter((m) => !operations.some((o) => o.path === path && o.method === m))
    const request: fc.Arbitrary<Request> = fc.record({
      method: fc.oneof({ weight: 6, arbitrary: fc.constant(method) }, { weight: 1, arbitrary: fc.constantFrom(...otherMethods) }),
      path: fc.record(Object.fromEntries(pathNames.map((name) => [name, fc.oneof({ weight: 4, arbitrary: ids[name] ?? fc.uuid() }, { weight: 1, arbitrary: junk })]))),
      query: fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: queryNames.length > 0 ? fc.constantFrom(...queryNames) : fc.constant('unknown') }, { weight: 1, arbitrary: fc.constantFrom('unknown', 'x%00', '') }), queryValue), { maxLength: 4 }),
      authorization: fc.oneof(
        { weight: 8, arbitrary: fc.constant(user.headers.authorization as string) },
        { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer junk', 'Basic dXNlcjpwYXNz', `Bearer ${tokenFor(user.id, { expiresIn: -3600 })}`, `Bearer ${tokenFor(user.id, { secret: 'another-secret-that-is-at-least-32-characters' })}`) }
      ),
      headers: fc.array(fc.tuple(fc.constantFrom(...headerNames, 'If-Match', 'If-None-Match', 'Idempotency-Key', 'X-Request-Id', 'Accept', 'Last-Event-ID'), fc.oneof(headerValue, fc.constant(user.id))), { maxLength: 2 }),
      origin: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constant(APP_ORIGIN) }, { weight: 1, arbitrary: fc.constantFrom('https://evil.example.net', 'null', '') }),
      // With an Origin, OPTIONS becomes a preflight: of this operation's method, or of any.
      preflightOf: fc.constantFrom(method, method, 'GET', 'PUT', 'TRACE'),
      // Mostly a media type the operation takes, so that bodies reach the handlers too.
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...Object.keys(operation.requestBody?.content ?? { 'application/json': {} })) },
        { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: fc.constant(null) }
      ),
      body: fc.oneof(
        { weight: takesBody ? 10 : 60, arbitrary: fc.constant(undefined) },
        { weight: takesBody ? 40 : 10, arbitrary: fc.constantFrom(...(MEANT[operationId] ?? [{}])).map((body) => JSON.stringify(body)) },
        { weight: 20, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)) },
        { weight: 10, arbitrary: fc.constantFrom('{', '', 'null', '[]', '{"__proto__": {"x": 1}}', 'title=x') },
        // Over every limit but the import's (1 MiB; a batch 4 MiB).
        { weight: 1, arbitrary: fc.constant(JSON.stringify({ title: 'x'.repeat(4.2 * 1024 * 1024) })) }
      )
    }).map(({ method, path: values, query, authorization, headers, origin, preflightOf, contentType, body }) => {
      let url = path.replace(/{(\w+)}/g, (_all, name: string) => values[name] as string)
      if (query.length > 0) url += '?' + query.map(([name, value]) => `${name}=${/%/.test(value) ? value : encodeURIComponent(value)}`).join('&')
      const sentHeaders: Record<string, string> = Object.fromEntries(headers.map(([name, value]) => [name.toLowerCase(), value]))
      if (authorization !== '') sentHeaders.authorization = authorization
      if (origin !== undefined) sentHeaders.origin = origin
      if (origin !== undefined && method === 'OPTIONS') sentHeaders['access-control-request-method'] = preflightOf
      // An event stream that opens never ends: this one only ever asks with a cursor it cannot
      // have (its open streams are event-stream.test.ts's).
      if (operationId === 'streamEvents') sentHeaders['last-event-id'] = 'not-an-event-id'
      if (body !== undefined && contentType !== null) sentHeaders['content-type'] = contentType
      return { method, url, headers: sentHeaders, ...(body === undefined ? {} : { payload: body }) }
    })

    const outcome = await fc.check(fc.asyncProperty(request, async (request) => {
      const response = await app.inject(request)
      sent++
      const key = `${request.method} ${path}`
      if (!statuses.has(key)) statuses.set(key, new Set())
      statuses.get(key)?.add(response.statusCode)
      const violations = contractViolations(request.method, request.url, { status: response.statusCode, headers: response.headers, body: request.method === 'HEAD' ? '' : response.body })
      if (response.statusCode >= 500) violations.push(`status ${response.statusCode}: ${response.body.slice(0, 300)}`)
      if (violations.length > 0) throw new Error(`${request.method} ${request.url.slice(0, 200)} → ${response.statusCode}: ${violations.join('; ')}`)
    }), { numRuns: perOperation, endOnFailure: true })
    t.notOk(outcome.failed, `${operationId}: ${perOperation} requests, every answer declared`, { error: outcome.errorInstance instanceof Error ? outcome.errorInstance.message : String(outcome.errorInstance ?? ''), counterexample: fc.defaultReportMessage(outcome) ?? '' })
  }
  t.ok(sent >= RUNS, `${sent} requests sent`)
  // The requests reached more than the refusals: every operation answered a success too, but
  // an import (no random body is an account document) and the event stream (kept from opening).
  const succeeded = operations.filter((o) => [...(statuses.get(`${o.method} ${o.path}`) ?? [])].some((status) => status < 300))
  // (With a few requests an operation may see refusals only: the check needs the full run.)
  if (perOperation >= 200) t.ok(succeeded.length >= operations.length - 2, `${succeeded.length} of ${operations.length} operations also answered a success`, { without: operations.filter((o) => !succeeded.includes(o)).map((o) => o.operationId) })
})

t.test('the not-found handler: unknown paths 404, known paths with another method 405 with Allow', async (t) => {
  const app = await buildTestApp(t)
  const user = newUser()
  for (const [method, url, status] of [['GET', '/nowhere', 404], ['PUT', '/api/me', 405], ['OPTIONS', '/api/me/tasks', 405], ['DELETE', '/health', 405], ['POST', '/openapi.json', 405]] as const) {
    const response = await app.inject({ method, url, headers: bearer(tokenFor(user.id)) })
    t.equal(response.statusCode, status, `${method} ${url}`)
    t.same(contractViolations(method, url, { status: response.statusCode, headers: response.headers, body: response.body }), [], 'declared')
  }
})
