/**
 * Cross-origin access (CORS_ORIGINS), as a browser sees it through the headers: preflights
 * answered before authentication and rate limiting, the allowed and exposed headers, CORP
 * relaxed for allowed origins only, nothing for other origins or with CORS_ORIGINS unset.
 * test/e2e/cors-browser.test.ts plays the same in Chromium.
 */
import t from 'tap'
import { buildTestApp, testConfig } from '../helpers/build-app.js'
import { contractViolations, inject } from '../helpers/contract.js'
import { newUser } from '../helpers/factories.js'

const APP_ORIGIN = 'https://app.example.com'
const OTHER_ORIGIN = 'https://evil.example.net'
const preflight = (origin: string, method = 'POST', headers = 'authorization,content-type,if-match'): Record<string, string> =>
  ({ origin, 'access-control-request-method': method, 'access-control-request-headers': headers })

t.test('an allowed origin', async (t) => {
  // One failed authentication a minute: a preflight counted as one would show at once.
  const app = await buildTestApp(t, { env: { CORS_ORIGINS: `${APP_ORIGIN}, http://localhost:5173`, RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1', RATE_LIMIT_PER_MINUTE: '2' } })

  t.test('preflights are 204 with the methods and headers the contract uses, without a token and outside every limit', async (t) => {
    for (let i = 0; i < 5; i++) {
      const response = await inject(t, app, { method: 'OPTIONS', url: '/api/me/tasks/00000000-0000-4000-8000-000000000000', headers: preflight(APP_ORIGIN, 'PATCH') })
      t.equal(response.statusCode, 204, `preflight ${i + 1}: 204, never 401 or 429`)
      t.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
      t.equal(response.body, '')
      if (i > 0) continue
      t.same(String(response.headers['access-control-allow-methods']).split(', '), ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])
      const allowedHeaders = String(response.headers['access-control-allow-headers']).toLowerCase().split(', ')
      for (const header of ['authorization', 'content-type', 'if-match', 'if-none-match', 'idempotency-key', 'last-event-id', 'confirm-delete', 'x-request-id']) {
        t.ok(allowedHeaders.includes(header), `allows ${header}`)
      }
      t.equal(response.headers['access-control-max-age'], '7200')
      t.notOk(response.headers['access-control-allow-credentials'], 'bearer tokens, not cookies: no credentials mode')
      t.ok(response.headers['x-request-id'], 'a request id, as on every answer')
    }
    const user = newUser()
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })).statusCode, 200, 'the user has not spent a request on preflights')
    t.equal((await app.inject({ method: 'GET', url: '/api/me' })).statusCode, 401, 'the address has not spent its failed authentication on preflights')
  })

  t.test('answers carry the origin, Vary: Origin, the exposed headers and CORP cross-origin', async (t) => {
    const user = newUser()
    const created = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: { ...user.headers, origin: 'http://localhost:5173', 'content-type': 'application/json' }, payload: { title: 'From the web app' } })
    t.equal(created.statusCode, 201)
    t.equal(created.headers['access-control-allow-origin'], 'http://localhost:5173', 'the asking origin, not the list')
    t.match(String(created.headers.vary), /Origin/)
    const exposed = String(created.headers['access-control-expose-headers']).toLowerCase().split(', ')
    for (const header of ['etag', 'location', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after', 'x-request-id', 'idempotent-replayed']) {
      t.ok(exposed.includes(header), `exposes ${header}`)
    }
    t.equal(created.headers['cross-origin-resource-policy'], 'cross-origin')
    const refused = await inject(t, app, { method: 'GET', url: '/api/me', headers: { origin: APP_ORIGIN }, remoteAddress: '203.0.113.9' })
    t.equal(refused.statusCode, 401, 'an actual request still needs its token')
    t.equal(refused.headers['access-control-allow-origin'], APP_ORIGIN, 'and its refusal is readable by the page')
  })

  t.test('other origins, and OPTIONS that are not preflights, get no CORS answer', async (t) => {
    const foreign = await inject(t, app, { method: 'OPTIONS', url: '/api/me/tasks', headers: preflight(OTHER_ORIGIN) })
    t.equal(foreign.statusCode, 405, 'a preflight from an unlisted origin: what any OPTIONS gets')
    t.match(foreign.headers['content-type'], /^application\/problem\+json/)
    t.notOk(foreign.headers['access-control-allow-origin'])
    t.notOk(foreign.headers['access-control-allow-methods'])
    t.match(String(foreign.headers.vary), /Origin/, 'Vary: Origin all the same, for caches')
    const plain = await inject(t, app, { method: 'OPTIONS', url: '/api/me/tasks', headers: { origin: APP_ORIGIN } })
    t.equal(plain.statusCode, 405, 'an OPTIONS without Access-Control-Request-Method is no preflight')
    t.equal(plain.headers.allow, 'GET, POST')
    const read = await inject(t, app, { method: 'GET', url: '/health', headers: { origin: OTHER_ORIGIN } })
    t.equal(read.statusCode, 200)
    t.notOk(read.headers['access-control-allow-origin'])
    t.equal(read.headers['cross-origin-resource-policy'], 'same-origin', "helmet's policy stands for other origins")
    const nowhere = await app.inject({ method: 'OPTIONS', url: '/nowhere', headers: preflight(OTHER_ORIGIN) })
    t.equal(nowhere.statusCode, 404)
  })
})

t.test('CORS_ORIGINS unset: no cross-origin access', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'OPTIONS', url: '/api/me/tasks', headers: preflight(APP_ORIGIN) })
  t.equal(response.statusCode, 405)
  t.notOk(response.headers['access-control-allow-origin'])
  const read = await inject(t, app, { method: 'GET', url: '/api/me', headers: { ...newUser().headers, origin: APP_ORIGIN } })
  t.equal(read.statusCode, 200)
  t.notOk(read.headers['access-control-allow-origin'])
  t.equal(read.headers['cross-origin-resource-policy'], 'same-origin')
})

t.test('CORS_ORIGINS takes exact origins only', async (t) => {
  t.same(testConfig({ CORS_ORIGINS: 'https://a.example.com,http://127.0.0.1:8080' }).server.corsOrigins, ['https://a.example.com', 'http://127.0.0.1:8080'])
  t.throws(() => testConfig({ CORS_ORIGINS: 'https://a.example.com/' }), /CORS_ORIGINS: "https:\/\/a\.example\.com\/" is not an origin; write it as https:\/\/a\.example\.com/)
  t.throws(() => testConfig({ CORS_ORIGINS: 'HTTPS://A.example.com' }), /write it as https:\/\/a\.example\.com/)
  t.throws(() => testConfig({ CORS_ORIGINS: 'https://a.example.com:443' }), /write it as https:\/\/a\.example\.com/)
  t.throws(() => testConfig({ CORS_ORIGINS: '*' }), /"\*" is not an origin/)
  t.throws(() => testConfig({ CORS_ORIGINS: 'ftp://a.example.com' }), /is not an origin/)
})

t.test('the contract declares the CORS answers (x-cors, x-unrouted-responses 204), and the checker holds them to it', async (t) => {
  const preflightAnswer = { 'x-request-id': 'r', 'access-control-allow-origin': APP_ORIGIN, 'access-control-allow-methods': 'GET', 'access-control-allow-headers': 'Authorization', 'access-control-max-age': '7200' }
  t.same(contractViolations('OPTIONS', '/api/me/tasks', { status: 204, headers: preflightAnswer, body: '' }), [], 'a preflight answer as the service gives it')
  t.same(contractViolations('OPTIONS', '/api/me/tasks', { status: 204, headers: { 'x-request-id': 'r' }, body: '' }), [
    'header Access-Control-Allow-Origin is missing', 'header Access-Control-Allow-Methods is missing', 'header Access-Control-Allow-Headers is missing', 'header Access-Control-Max-Age is missing'
  ], 'a 204 to OPTIONS without the preflight headers is no declared answer')
  t.same(contractViolations('OPTIONS', '/api/me/tasks', { status: 204, headers: preflightAnswer, body: 'x' }), ['status 204 must have no body'])
  const health = { 'x-request-id': 'r', 'content-type': 'application/json; charset=utf-8' }
  const body = JSON.stringify({ status: 'ok' })
  t.same(contractViolations('GET', '/health', { status: 200, headers: { ...health, 'access-control-allow-origin': APP_ORIGIN, 'access-control-expose-headers': 'ETag' }, body }), [], "x-cors' headers may be on any answer")
  t.same(contractViolations('GET', '/health', { status: 200, headers: { ...health, 'access-control-allow-methods': 'GET' }, body }), ['header access-control-allow-methods is not declared for status 200'], "a preflight's own headers belong to the preflight only")
})
