/** Security headers, logs without credentials, statement timeouts and overload answered 503. */
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { Writable } from 'node:stream'
import helmet from 'helmet'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { createTask, newUser } from '../helpers/factories.js'
import { createDatabase } from '../../src/database/create.js'
import { sharedUrl } from '../helpers/database.js'
import { helmetHeaders } from '../../src/plugins/security.js'

t.test('security headers on every response, /docs included', async (t) => {
  const app = await buildTestApp(t)
  // helmet's own middleware on a real response, as the reference for the recorded headers.
  const reference = await new Promise<Record<string, unknown>>((resolve) => {
    const response = new ServerResponse(new IncomingMessage(new Socket()))
    helmet()(response.req, response, () => { resolve(response.getHeaders()) })
  })
  t.ok(Object.keys(reference).length >= 10, 'helmet sets its headers')
  t.same(Object.fromEntries(helmetHeaders()), reference, 'recorded once, the same as helmet sets')
  for (const url of ['/health', '/api/me', '/docs/', '/nowhere']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.headers['x-content-type-options'], 'nosniff', url)
    t.match(response.headers['content-security-policy'], /default-src 'self'/, url)
    for (const [name, value] of Object.entries(reference)) t.equal(response.headers[name], value, `${url}: ${name}`)
  }
})

t.test('logs carry the request id and never the token', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
  const app = await buildTestApp(t, { logger: { level: 'info', stream, redact: ['req.headers.authorization'] } })
  const user = newUser()
  const token = user.headers.authorization?.slice('Bearer '.length) as string
  await app.inject({ method: 'GET', url: '/api/me', headers: { ...user.headers, 'x-request-id': 'trace-logs-1' } })
  await app.inject({ method: 'GET', url: `/api/me?access_token=${token}`, headers: { 'x-request-id': 'trace-logs-2' } })
  const log = lines.join('')
  t.match(log, /"request_id":"trace-logs-1"/)
  t.match(log, /"request_id":"trace-logs-2"/)
  t.notOk(log.includes(token), 'the token appears nowhere in the logs')
  t.match(log, /access_token=\[REDACTED\]/)
})

t.test('a statement past DATABASE_STATEMENT_TIMEOUT_MS is cancelled and answered 503', async (t) => {
  const app = await buildTestApp(t, { ownPool: true, env: { DATABASE_URL: sharedUrl(), DATABASE_STATEMENT_TIMEOUT_MS: '300' } })
  const user = newUser()
  const task = await createTask(t, app, user)
  const locker = createDatabase({ url: sharedUrl(), poolMax: 1 })
  t.teardown(async () => { await locker.destroy() })
  await locker.transaction().execute(async (trx) => {
    await trx.selectFrom('tasks').select('id').where('id', '=', task.id).forUpdate().execute()
    const response = await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${task.id as string}`, headers: user.headers, payload: { title: 'blocked' } })
    t.equal(response.statusCode, 503)
    t.ok(response.headers['retry-after'])
  })
})

t.test('a saturated event loop gets 503 on /api, not a slow answer', async (t) => {
  const app = await buildTestApp(t, { env: { EVENT_LOOP_DELAY_LIMIT_MS: '20' } })
  const user = newUser()
  // Keep the event loop busy in 60 ms bursts, as sustained CPU-bound load would, for longer
  // than the sampler's window (under-pressure measures the mean delay over 500 ms).
  const end = Date.now() + 1_500
  while (Date.now() < end) {
    const burst = Date.now() + 60
    while (Date.now() < burst) { /* busy */ }
    await new Promise((resolve) => setImmediate(resolve))
  }
  const response = await app.inject({ method: 'GET', url: '/api/me', headers: user.headers })
  t.equal(response.statusCode, 503)
  t.equal(response.json().type, 'urn:todo-contract:problem:service-unavailable')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health is never refused')
})
