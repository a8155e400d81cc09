/**
 * RESPONSE_VALIDATION: an answer that breaks openapi.yaml never leaves; it is logged with what
 * is wrong and answered as a 500 problem. The drift is made the way a bug would make it: a
 * hook after the handler changes a field the serializer passes through unchecked, the
 * status, or a required header.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { sharedServiceDatabase } from '../helpers/database.js'
import { testConfig } from '../helpers/build-app.js'
import { newUser } from '../helpers/factories.js'

interface Drifting { app: FastifyInstance, logs: Array<Record<string, unknown>> }

/** The real app with one bug planted after the handlers, and its error log lines. */
async function drifting (t: Test, env: Record<string, string>, plant: (app: FastifyInstance) => void): Promise<Drifting> {
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  const app = await buildApp(testConfig(env), { logger: { level: 'error', stream }, database: sharedServiceDatabase(t) })
  t.teardown(async () => { await app.close() })
  plant(app)
  await app.ready()
  return { app, logs }
}

/** A preSerialization hook (after the handler, before the serializer) on one operation only. */
function onlyFor (app: FastifyInstance, operationId: string, change: (reply: FastifyReply, payload: Record<string, unknown>) => unknown): void {
  app.addHook('preSerialization', async (request, reply, payload) =>
    request.routeOptions.config.contract?.operationId === operationId ? change(reply, payload as Record<string, unknown>) : payload)
}

t.test('a body field the schema forbids: 500, logged with the field', async (t) => {
  const { app, logs } = await drifting(t, {}, (app) => {
    onlyFor(app, 'getCurrentUser', (_reply, payload) => ({ ...payload, id: '' }))
  })
  const response = await app.inject({ method: 'GET', url: '/api/me', headers: newUser().headers })
  t.equal(response.statusCode, 500)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.json().type, 'urn:todo-contract:problem:internal')
  t.ok(response.headers['x-request-id'], 'with the request id to quote')
  t.match(logs, [{ operationId: 'getCurrentUser', status: 200, violations: ['body/id must NOT have fewer than 1 characters'], msg: /breaks the contract/ }])
})

t.test('an undeclared status: 500', async (t) => {
  const { app, logs } = await drifting(t, {}, (app) => {
    onlyFor(app, 'getCurrentUser', (reply, payload) => { reply.code(203); return payload })
  })
  const response = await app.inject({ method: 'GET', url: '/api/me', headers: newUser().headers })
  t.equal(response.statusCode, 500)
  t.match(logs, [{ violations: ['status 203 is not declared for getCurrentUser'] }])
})

t.test('a required header missing: 500, and the answer\'s own headers go with it', async (t) => {
  const { app, logs } = await drifting(t, {}, (app) => {
    onlyFor(app, 'createTask', (reply, payload) => { reply.removeHeader('location'); return payload })
  })
  const response = await app.inject({ method: 'POST', url: '/api/me/tasks', headers: newUser().headers, payload: { title: 'Drift' } })
  t.equal(response.statusCode, 500)
  t.notOk(response.headers.etag, 'no ETag of a version the client was not told about')
  t.match(logs, [{ operationId: 'createTask', status: 201, violations: ['header Location is missing'] }])
})

t.test('answers that conform pass unchanged, as do unknown routes\' problems', async (t) => {
  const { app, logs } = await drifting(t, {}, () => {})
  const user = newUser()
  t.equal((await app.inject({ method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { title: 'Fine' } })).statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/api/me/tasks', headers: user.headers })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode, 200)
  t.same(logs, [])
})

t.test('RESPONSE_VALIDATION=false (production\'s default): the drift goes out', async (t) => {
  const { app, logs } = await drifting(t, { RESPONSE_VALIDATION: 'false' }, (app) => {
    onlyFor(app, 'getCurrentUser', (_reply, payload) => ({ ...payload, id: '' }))
  })
  const response = await app.inject({ method: 'GET', url: '/api/me', headers: newUser().headers })
  t.equal(response.statusCode, 200)
  t.equal(response.json().id, '')
  t.same(logs, [])
  t.equal(testConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x' }).server.responseValidation, false, 'off in production unless asked for')
  t.equal(testConfig({}).server.responseValidation, true, 'on elsewhere')
})
