import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'

t.test('getHealth', async (t) => {
  t.test('answers 200 without a token', async (t) => {
    const app = await buildTestApp(t)
    const response = await inject(t, app, { method: 'GET', url: '/health' })
    t.equal(response.statusCode, 200)
    t.same(response.json(), { status: 'ok' })
  })
})

t.test('getReadiness', async (t) => {
  t.test('answers 200 when the database answers', async (t) => {
    const app = await buildTestApp(t)
    const response = await inject(t, app, { method: 'GET', url: '/ready' })
    t.equal(response.statusCode, 200)
    t.same(response.json(), { status: 'ready', checks: { database: 'up' } })
  })

  t.test('answers 503 with Retry-After when the database is unreachable', async (t) => {
    const { openDatabase } = await import('../../src/database/create.js')
    // Nothing listens on port 1: connecting fails at once, like a database that went away.
    const database = openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', poolMax: 1 })
    t.teardown(async () => { await database.destroy() })
    const app = await buildTestApp(t, { database })
    const response = await inject(t, app, { method: 'GET', url: '/ready' })
    t.equal(response.statusCode, 503)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(response.headers['retry-after'], '5')
  })
})

t.test('the contract itself', async (t) => {
  const app = await buildTestApp(t)
  const { contractText } = await import('../../src/contract/index.js')

  t.test('/openapi.yaml is the file, verbatim, without a token', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/openapi.yaml' })
    t.equal(response.statusCode, 200)
    t.match(response.headers['content-type'], /^application\/yaml/)
    t.equal(response.body, contractText)
  })

  t.test('/openapi.json is the same document as JSON', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' })
    t.equal(response.statusCode, 200)
    const { parse } = await import('yaml')
    t.same(response.json(), parse(contractText))
  })

  t.test('/docs serves Swagger UI over it', async (t) => {
    const page = await app.inject({ method: 'GET', url: '/docs/' })
    t.equal(page.statusCode, 200)
    t.match(page.body, /swagger-ui/)
    const served = await app.inject({ method: 'GET', url: '/docs/json' })
    t.equal(served.json().info.title, 'Todo Tasks API')
  })
})
