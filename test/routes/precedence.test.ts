/**
 * The order of the shared refusals (API.md part two's preamble; issue "the edge holds"): 401
 * first, then 403, then what is wrong with the body (413, 415, 400). Another user's path is
 * refused before its body is read, so a broken body there says nothing before the 403.
 */
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { listOperations } from '../../src/contract/index.js'
import { buildTestApp } from '../helpers/build-app.js'
import { newUser } from '../helpers/factories.js'
import { bearer, tokenFor } from '../helpers/tokens.js'

const IMPORT_LIMIT = 2 * 1024 * 1024
const withBodies = listOperations().filter((o) => o.path.includes('{user_id}') && o.operation.requestBody !== undefined)

type Body = [what: string, headers: Record<string, string>, payload: string]

/** Each broken body: 403 from a caller on another user's path, 401 with a bad token, a body refusal on one's own path. */
async function refusalsInOrder (t: Test, app: FastifyInstance, method: string, url: (user: string) => string, bodies: Body[]): Promise<void> {
  const caller = newUser('caller')
  const victim = newUser('victim')
  for (const [what, headers, payload] of bodies) {
    const foreign = await app.inject({ method, url: url(victim.id), headers: { ...caller.headers, ...headers }, payload })
    t.equal(foreign.statusCode, 403, `another user's path with ${what}: 403`)
    const anonymous = await app.inject({ method, url: url(victim.id), headers: { ...bearer(tokenFor(caller.id, { secret: 'a-different-secret-of-at-least-32-chars' })), ...headers }, payload })
    t.equal(anonymous.statusCode, 401, `a bad token with ${what}: 401`)
    const own = await app.inject({ method, url: url('me'), headers: { ...caller.headers, ...headers }, payload })
    t.ok([400, 413, 415].includes(own.statusCode), `one's own path with ${what}: ${own.statusCode}`)
  }
}

t.test('401, then 403, then the body', async (t) => {
  const app = await buildTestApp(t, { env: { IMPORT_MAX_BYTES: String(IMPORT_LIMIT) } })
  t.ok(withBodies.length >= 10, `${withBodies.length} operations with a {user_id} and a body`)

  const limitOf = (operationId: string, declared: number | undefined): number =>
    operationId === 'importAccount' ? IMPORT_LIMIT : declared ?? 1024 * 1024
  const bodies = (operationId: string, declared: number | undefined): Body[] => [
    ['malformed JSON', { 'content-type': 'application/json' }, '{"title": '],
    ['an unaccepted media type', { 'content-type': 'text/plain' }, 'title=x'],
    ['a body over the limit', { 'content-type': 'application/json' }, JSON.stringify({ title: 'x'.repeat(limitOf(operationId, declared)) })],
    ['a body that breaks the schema', { 'content-type': 'application/json' }, JSON.stringify({ unknown: true })]
  ]

  for (const { operationId, method, path, operation } of withBodies) {
    const declared = operation['x-body-limit'] as number | undefined
    const url = (user: string): string => path
      .replace('{user_id}', encodeURIComponent(user))
      .replace(/\{(task_id|category_id|webhook_id)\}/, '6f1c1f5e-8d5b-4a57-9a3e-2d9c6f7b8a10')
    t.test(operationId, async (t) => { await refusalsInOrder(t, app, method, url, bodies(operationId, declared)) })
  }
})

// Operations that take no body still read one a client sends (413/415/400 on one's own path):
// on another user's path the 403 comes first there too.
const withoutBodies = listOperations().filter((o) => o.path.includes('{user_id}') && o.operation.requestBody === undefined && o.method !== 'GET')

t.test('401, then 403, then the body, where no body is declared', async (t) => {
  const app = await buildTestApp(t)
  t.ok(withoutBodies.length >= 5, `${withoutBodies.length} operations with a {user_id}, no body, not GET: ${withoutBodies.map((o) => o.operationId).join(', ')}`)
  const bodies: Body[] = [
    ['malformed JSON', { 'content-type': 'application/json' }, '{"title": '],
    ['an unaccepted media type', { 'content-type': 'text/plain' }, 'title=x'],
    ['a body over the limit', { 'content-type': 'application/json' }, JSON.stringify({ title: 'x'.repeat(1024 * 1024) })]
  ]
  for (const { operationId, method, path } of withoutBodies) {
    const url = (user: string): string => path
      .replace('{user_id}', encodeURIComponent(user))
      .replace(/\{(task_id|category_id|webhook_id)\}/, '6f1c1f5e-8d5b-4a57-9a3e-2d9c6f7b8a10')
    t.test(operationId, async (t) => { await refusalsInOrder(t, app, method, url, bodies) })
  }
})
