/**
 * What every route shares: problem+json for every failure, X-Request-Id on every response,
 * the body limit, JSON-only bodies, hostile strings refused before they reach the database.
 */
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { bearer, newUserId, tokenFor } from '../helpers/tokens.js'

const PROBLEM = 'application/problem+json; charset=utf-8'

t.test('unknown routes', async (t) => {
  const app = await buildTestApp(t)

  t.test('answer 404 not-found as a problem', async (t) => {
    const response = await inject(t, app, { method: 'GET', url: '/nowhere' })
    t.equal(response.statusCode, 404)
    t.equal(response.headers['content-type'], PROBLEM)
    t.equal(response.json().type, 'urn:todo-contract:problem:not-found')
    t.equal(response.json().instance, '/nowhere')
  })

  t.test('answer 405 with Allow when the path exists with other methods', async (t) => {
    const response = await app.inject({ method: 'PUT', url: '/api/me/categories', headers: bearer(tokenFor(newUserId())) })
    t.equal(response.statusCode, 405)
    t.equal(response.json().type, 'urn:todo-contract:problem:method-not-allowed')
    t.equal(response.headers.allow, 'GET, POST')
  })
})

t.test('X-Request-Id', async (t) => {
  const app = await buildTestApp(t)

  t.test('is generated when the request has none', async (t) => {
    const response = await inject(t, app, { method: 'GET', url: '/health' })
    t.match(response.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  })

  t.test('echoes the client id, on errors too', async (t) => {
    const ok = await inject(t, app, { method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-42' } })
    t.equal(ok.headers['x-request-id'], 'trace-42')
    const failed = await inject(t, app, { method: 'GET', url: '/api/me', headers: { 'x-request-id': 'trace-43' } })
    t.equal(failed.statusCode, 401)
    t.equal(failed.headers['x-request-id'], 'trace-43')
  })

  t.test('replaces a client id that is not printable ASCII', async (t) => {
    const response = await inject(t, app, { method: 'GET', url: '/health', headers: { 'x-request-id': 'x'.repeat(201) } })
    t.not(response.headers['x-request-id'], 'x'.repeat(201))
  })
})

t.test('request bodies', async (t) => {
  const app = await buildTestApp(t)
  const headers = bearer(tokenFor(newUserId()))
  const post = async (t: Test, payload: string | Buffer, contentType = 'application/json'): Promise<ReturnType<typeof app.inject>> =>
    await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: { ...headers, 'content-type': contentType }, payload })

  t.test('malformed JSON is 400 validation-failed', async (t) => {
    const response = await post(t, '{"name": ')
    t.equal(response.statusCode, 400)
    t.equal(response.json().type, 'urn:todo-contract:problem:validation-failed')
  })

  t.test('a __proto__ key is refused', async (t) => {
    const response = await post(t, '{"name": "x", "__proto__": {"polluted": true}}')
    t.equal(response.statusCode, 400)
    t.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  t.test('a body over 1 MiB is 413', async (t) => {
    const response = await post(t, JSON.stringify({ name: 'x'.repeat(1024 * 1024) }))
    t.equal(response.statusCode, 413)
    t.equal(response.json().type, 'urn:todo-contract:problem:payload-too-large')
  })

  t.test('a content type other than JSON is 415', async (t) => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await post(t, 'name=x', type)
      t.equal(response.statusCode, 415, type)
      t.equal(response.json().type, 'urn:todo-contract:problem:unsupported-media-type')
    }
  })

  t.test('merge-patch+json is 415 where the operation does not take it', async (t) => {
    const response = await post(t, '{"name":"x"}', 'application/merge-patch+json')
    t.equal(response.statusCode, 415)
  })

  t.test('a missing required body is 400', async (t) => {
    const response = await inject(t, app, { method: 'POST', url: '/api/me/categories', headers })
    t.equal(response.statusCode, 400)
    t.same(response.json().errors, [{ pointer: '', detail: 'is required' }])
  })

  t.test('NUL and lone surrogates are 400 naming the field, and nothing is stored', async (t) => {
    for (const bad of ['"a\\u0000b"', '"a\\ud800b"', '"\\udc00"']) {
      const response = await post(t, `{"name": ${bad}}`)
      t.equal(response.statusCode, 400, bad)
      t.same(response.json().errors, [{ pointer: '/name', detail: 'holds a NUL character or a lone surrogate' }])
    }
    const list = await inject(t, app, { method: 'GET', url: '/api/me/categories', headers })
    t.same(list.json().items, [])
  })

  t.test('a properly paired surrogate (an emoji) is fine', async (t) => {
    const response = await post(t, '{"name": "Fun \\ud83c\\udf89"}')
    t.equal(response.statusCode, 201)
    t.equal(response.json().name, 'Fun 🎉')
  })

  t.test('deeply nested JSON is refused without a crash', async (t) => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    const response = await post(t, `{"name": "x", "color": ${deep}}`)
    t.equal(response.statusCode, 400)
  })
})

t.test('unexpected faults', async (t) => {
  t.test('answer 500 with no internals in the body', async (t) => {
    // A database whose every query fails with an SQL error (not a connection error): the
    // role exists but its search_path names no schema, so no table resolves.
    const { openDatabase } = await import('../../src/database/create.js')
    const { sharedUrl } = await import('../helpers/database.js')
    const broken = openDatabase({ url: sharedUrl() + '?options=-c%20search_path%3Dnothing_here', poolMax: 1 })
    t.teardown(async () => { await broken.destroy() })
    const brokenApp = await buildTestApp(t, { database: broken, env: { RLS_ENABLED: 'false' } })
    const response = await inject(t, brokenApp, { method: 'GET', url: '/api/me', headers: bearer(tokenFor(newUserId())) })
    t.equal(response.statusCode, 500)
    t.equal(response.json().type, 'urn:todo-contract:problem:internal')
    t.notMatch(response.body, /relation|users|select|stack|at /i)
  })
})

t.test('an empty body under a JSON content type is no body (as generated clients send it)', async (t) => {
  const app = await buildTestApp(t)
  const headers = { ...bearer(tokenFor(newUserId('empty-body'))), 'content-type': 'application/json' }
  const created = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers, payload: { title: 'Toggle me' } })
  const toggled = await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${created.json().id as string}/complete`, headers, payload: '' })
  t.equal(toggled.statusCode, 200, 'an optional body: as if none was sent')
  t.equal(toggled.json().completed, true, 'so the completion toggles')
  const nullBody = await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${created.json().id as string}/complete`, headers, payload: 'null' })
  t.equal(nullBody.statusCode, 400, 'a JSON null is a body, and not an object')
  const required = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers, payload: '' })
  t.equal(required.statusCode, 400, 'a required body')
  t.equal(required.json().detail, 'A request body is required.')
})
