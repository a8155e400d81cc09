/**
 * The real server with METRICS_PORT: the endpoint beside the API (not on its port), its
 * token; with WEB_CONCURRENCY=2 one endpoint, in the primary, adding up both workers'
 * requests; and with METRICS_PORT unset, no endpoint at all.
 */
import t from 'tap'
import { sharedUrl } from '../helpers/database.js'
import { sample, scrape } from '../helpers/metrics.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'
import { eventually } from '../helpers/waiting.js'

const TOKEN = 'scrape-token-0123456789abcdef'
const ENV = { DATABASE_URL: sharedUrl(), JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test' }
const METRICS_AT = /metrics (?:of every worker )?at (http:\/\/[^"\s]+)/

t.test('one process: the endpoint on its own port, behind its token', async (t) => {
  const server = await startServer(t, { ...ENV, METRICS_PORT: '0', METRICS_TOKEN: TOKEN })
  const url = METRICS_AT.exec(server.output())?.[1]
  if (url === undefined) throw new Error(`no metrics endpoint announced:\n${server.output()}`)
  t.not(new URL(url).port, new URL(server.baseUrl).port, 'not the API\'s port')
  const headers = bearer(tokenFor(newUserId('metrics')))
  for (let i = 0; i < 3; i++) t.equal((await fetch(`${server.baseUrl}/api/me`, { headers })).status, 200)

  t.equal((await scrape(url)).status, 401, 'no token: 401')
  const { status, text } = await scrape(url, { authorization: `Bearer ${TOKEN}` })
  t.equal(status, 200)
  t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'getCurrentUser', status_code: '200' }), 3)
  t.ok(sample(text, 'process_resident_memory_bytes') !== undefined, 'the process metrics')
  const onApi = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(onApi.status, 404, 'nothing on the API\'s port')
  t.equal(await server.stop('SIGTERM'), 0, 'closes cleanly, the endpoint with it')
})

t.test('WEB_CONCURRENCY=2: the primary adds up both workers', async (t) => {
  const server = await startServer(t, { ...ENV, WEB_CONCURRENCY: '2', METRICS_PORT: '0' })
  await eventually('both workers listening, and the endpoint', async () => server.output(), (output) => (output.match(/Server listening/g) ?? []).length === 2 && METRICS_AT.test(output), 30_000)
  const url = METRICS_AT.exec(server.output())?.[1] as string
  const headers = bearer(tokenFor(newUserId('metrics-cluster')))
  const answers = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${server.baseUrl}/api/me`, { headers })).status))
  t.same(answers, Array(20).fill(200))
  const { status, text } = await scrape(url)
  t.equal(status, 200)
  t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'getCurrentUser', status_code: '200' }), 20, 'every request, whichever worker took it')
  t.equal(sample(text, 'nodejs_version_info', { version: process.version }), 1, 'one Node.js, not one per worker')
  t.equal(await server.stop('SIGTERM'), 0)
})

t.test('METRICS_PORT unset: no endpoint', async (t) => {
  const server = await startServer(t, ENV)
  t.notMatch(server.output(), /metrics/i, 'none announced')
  t.equal((await fetch(`${server.baseUrl}/metrics`)).status, 404)
  t.equal(await server.stop('SIGTERM'), 0)
})
