/**
 * Metrics (METRICS_PORT): the endpoint apart from the API, as server.ts serves it
 * (src/metrics/endpoint.ts over the app's registry), its token, and what it shows: request
 * durations by operation and status code, the service pool, the queue, reminders' lateness,
 * process metrics. The configuration's refusals, and nothing at all with METRICS_PORT unset.
 * The real server (one process, and a cluster summed by its primary): test/e2e/metrics-server.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import { type MetricsEndpoint, registryMetrics, serveMetrics } from '../../src/metrics/endpoint.js'
import { connectTimed, jobEventsCreated, poolOf, poolOpened, reminderFired, statementFailed } from '../../src/metrics/signals.js'
import { buildTestApp, testConfig } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { isolatedDatabase, sharedUrl } from '../helpers/database.js'
import { createTask, newUser } from '../helpers/factories.js'
import { sample, scrape } from '../helpers/metrics.js'
import { eventually, sleep } from '../helpers/waiting.js'

const TOKEN = 'scrape-token-0123456789abcdef'
const MISSING_TASK = '00000000-0000-4000-8000-000000000000'

/** An app with metrics, and its endpoint as server.ts starts it (on a free port). */
async function withMetrics (t: Test, options: Parameters<typeof buildTestApp>[1] = {}): Promise<{ app: FastifyInstance, endpoint: MetricsEndpoint }> {
  const env = { METRICS_PORT: '0', ...options.env }
  const app = await buildTestApp(t, { ...options, env })
  const settings = testConfig(env).metrics
  if (settings === undefined) throw new Error('metrics are off')
  const endpoint = await serveMetrics({ ...settings, render: registryMetrics(app.metrics), onError: (error) => { t.fail(String(error)) } })
  t.teardown(endpoint.close)
  return { app, endpoint }
}

t.test('the endpoint', async (t) => {
  const { app, endpoint } = await withMetrics(t)
  const user = newUser()

  t.test('answers Prometheus text with the duration of each operation by status code', async (t) => {
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })).statusCode, 200)
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })).statusCode, 200)
    t.equal((await inject(t, app, { method: 'GET', url: `/api/me/tasks/${MISSING_TASK}`, headers: user.headers })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me' })).statusCode, 401)
    const { status, contentType, text, headers } = await scrape(endpoint.url)
    t.equal(status, 200)
    t.match(contentType, /^text\/plain; version=0\.0\.4/)
    t.equal(headers.get('cache-control'), 'no-store')
    t.match(text, /# TYPE http_request_duration_seconds histogram/)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'getCurrentUser', status_code: '200' }), 2, 'both calls, by operationId and status')
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'getCurrentUser', status_code: '401' }), 1)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'getTask', status_code: '404' }), 1)
    t.equal(sample(text, 'http_request_duration_seconds_bucket', { operation: 'getCurrentUser', status_code: '200', le: '+Inf' }), 2)
    const seconds = sample(text, 'http_request_duration_seconds_sum', { operation: 'getCurrentUser', status_code: '200' }) ?? -1
    t.ok(seconds > 0 && seconds < 5, `durations in seconds (${seconds})`)
  })

  t.test('requests no operation serves are `none`; the documents keep their operationId', async (t) => {
    t.equal((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode, 404)
    t.equal((await app.inject({ method: 'DELETE', url: '/api/me/tasks' })).statusCode, 405)
    t.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200)
    const { text } = await scrape(endpoint.url)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'none', status_code: '404' }), 1)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'none', status_code: '405' }), 1)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'getContractJson', status_code: '200' }), 1)
  })

  t.test('a batch counts once, not once per operation', async (t) => {
    const response = await inject(t, app, { method: 'POST', url: '/api/me/batch', headers: user.headers, payload: { operations: [{ op: 'create_task', body: { title: 'a' } }, { op: 'create_task', body: { title: 'b' } }] } })
    t.equal(response.statusCode, 200)
    const { text } = await scrape(endpoint.url)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'runBatch', status_code: '200' }), 1)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'createTask', status_code: '201' }), undefined, 'its parts are not requests')
  })

  t.test('the process: CPU, memory, event loop', async (t) => {
    const { text } = await scrape(endpoint.url)
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      t.ok(sample(text, name) !== undefined, name)
    }
  })

  t.test('statement errors, job failures and reminders\' lateness, as src/metrics/signals.ts reports them', async (t) => {
    statementFailed(Object.assign(new Error('duplicate key'), { code: '23505' }))
    statementFailed(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))
    statementFailed(new Error('no code at all'))
    const events = new EventEmitter()
    jobEventsCreated(app, events as never)
    events.emit('job:error', { job: { task_identifier: 'deliver_webhook', attempts: 1, max_attempts: 10 } })
    events.emit('job:error', { job: { task_identifier: 'deliver_webhook', attempts: 10, max_attempts: 10 } })
    reminderFired(app, 1.5)
    reminderFired(app, -0.2)
    const { text } = await scrape(endpoint.url)
    t.ok((sample(text, 'todo_db_statement_errors_total', { code: '23505' }) ?? 0) >= 1, 'by SQLSTATE')
    t.ok((sample(text, 'todo_db_statement_errors_total', { code: 'ECONNRESET' }) ?? 0) >= 1, 'or network error')
    t.ok((sample(text, 'todo_db_statement_errors_total', { code: 'other' }) ?? 0) >= 1, 'anything else: other')
    t.equal(sample(text, 'todo_job_failures_total', { task: 'deliver_webhook', final: 'false' }), 1, 'an attempt failed, another follows')
    t.equal(sample(text, 'todo_job_failures_total', { task: 'deliver_webhook', final: 'true' }), 1, 'the last attempt failed')
    t.equal(sample(text, 'todo_reminder_lateness_seconds_count'), 2)
    t.equal(sample(text, 'todo_reminder_lateness_seconds_sum'), 1.5, 'a clock a little behind counts as on time')
    t.equal(sample(text, 'todo_reminder_lateness_seconds_bucket', { le: '2' }), 2)
  })

  t.test('only GET or HEAD /metrics', async (t) => {
    t.equal((await scrape(endpoint.url.replace(/\/metrics$/, '/'))).status, 404)
    const posted = await scrape(endpoint.url, {}, 'POST')
    t.equal(posted.status, 405)
    t.equal(posted.headers.get('allow'), 'GET, HEAD')
    const head = await scrape(endpoint.url, {}, 'HEAD')
    t.equal(head.status, 200)
    t.equal(head.text, '')
  })

  t.test('never on the API\'s port', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    t.equal(response.statusCode, 404)
    t.notMatch(response.body, /http_request_duration_seconds/)
  })
})

t.test('with METRICS_TOKEN', async (t) => {
  const { app, endpoint } = await withMetrics(t, { env: { METRICS_TOKEN: TOKEN } })
  await app.inject({ method: 'GET', url: '/health' })

  t.test('a missing or wrong token gets 401 and no metrics, whatever the path', async (t) => {
    for (const [headers, what] of [
      [{}, 'no token'],
      [{ authorization: `Bearer ${TOKEN}x` }, 'a longer token'],
      [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, 'a shorter token'],
      [{ authorization: `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}` }, 'another scheme'],
      [{ authorization: TOKEN }, 'no scheme']
    ] as Array<[Record<string, string>, string]>) {
      for (const url of [endpoint.url, endpoint.url.replace(/\/metrics$/, '/other')]) {
        const refused = await scrape(url, headers)
        t.equal(refused.status, 401, `${what}: 401`)
        t.equal(refused.headers.get('www-authenticate'), 'Bearer realm="metrics"')
        t.notMatch(refused.text, /process_|http_request|todo_/, `${what}: no metrics`)
      }
    }
  })

  t.test('the token gets the metrics', async (t) => {
    const { status, text } = await scrape(endpoint.url, { authorization: `Bearer ${TOKEN}` })
    t.equal(status, 200)
    t.equal(sample(text, 'http_request_duration_seconds_count', { operation: 'getHealth', status_code: '200' }), 1)
  })
})

t.test('the service pool: connections in use and idle, callers waiting, and how long they waited', async (t) => {
  const handle = openDatabase({ url: sharedUrl(), poolMax: 2, role: SERVICE_ROLE })
  t.teardown(async () => { await handle.destroy() })
  // The pool as src/database/create.ts reports it (poolOpened); here one of the test's own,
  // held and released by the test, so that every figure is known.
  const pool = new pg.Pool({ connectionString: sharedUrl(), max: 2 })
  t.teardown(async () => { await pool.end() })
  poolOpened(handle.db, pool)
  const { endpoint } = await withMetrics(t, { database: handle })
  const reading = async (): Promise<Record<string, number | undefined>> => {
    const { text } = await scrape(endpoint.url)
    return {
      open: sample(text, 'todo_db_pool_connections'),
      idle: sample(text, 'todo_db_pool_idle_connections'),
      waiting: sample(text, 'todo_db_pool_waiting_requests'),
      max: sample(text, 'todo_db_pool_max_connections'),
      waits: sample(text, 'todo_db_pool_wait_seconds_count')
    }
  }
  t.same(await reading(), { open: 0, idle: 0, waiting: 0, max: 2, waits: 0 })
  const first = await connectTimed(pool)
  const second = await connectTimed(pool)
  const third = connectTimed(pool)
  await sleep(50)
  t.same(await reading(), { open: 2, idle: 0, waiting: 1, max: 2, waits: 2 }, 'both in use, a third caller waiting')
  await sleep(100)
  first.release()
  const client = await third
  second.release()
  const { text } = await scrape(endpoint.url)
  t.same(await reading(), { open: 2, idle: 1, waiting: 0, max: 2, waits: 3 })
  const waited = sample(text, 'todo_db_pool_wait_seconds_sum') ?? 0
  t.ok(waited >= 0.1, `the third waited for the first's release (${waited} s in all)`)
  t.ok((sample(text, 'todo_db_pool_wait_seconds_bucket', { le: '0.1' }) ?? 0) >= 2, 'the others hardly waited')
  client.release()
})

t.test('the job queue: its depth across the database, and how late reminders fire', async (t) => {
  const { url } = await isolatedDatabase(t)
  const database = openDatabase({ url, poolMax: 5, role: SERVICE_ROLE })
  t.teardown(async () => { await database.destroy() })
  const user = newUser()
  const env = { DATABASE_URL: url }
  const idle = await withMetrics(t, { database, env: { ...env, JOB_CONCURRENCY: '0' } })
  const before = await scrape(idle.endpoint.url)
  t.equal(sample(before.text, 'todo_job_queue_depth', { task: 'fire_reminder' }) ?? 0, 0, 'nothing due yet')
  await createTask(t, idle.app, user, { title: 'Due at once', due_at: new Date(Date.now() + 3600_000).toISOString(), reminders: [{ at: new Date(Date.now() + 500).toISOString() }] })
  await sleep(1000)
  const due = await scrape(idle.endpoint.url)
  t.equal(sample(due.text, 'todo_job_queue_depth', { task: 'fire_reminder' }), 1, 'due, and no process here runs jobs')
  t.equal(sample(due.text, 'todo_reminder_lateness_seconds_count'), 0)

  const working = await withMetrics(t, { database, env: { ...env, JOB_CONCURRENCY: '1' } })
  const fired = await eventually('the reminder fired', async () => (await scrape(working.endpoint.url)).text, (text) => sample(text, 'todo_reminder_lateness_seconds_count') === 1, 15_000)
  const late = sample(fired, 'todo_reminder_lateness_seconds_sum') ?? -1
  t.ok(late >= 0.5 && late < 15, `its lateness: since its time, a second before the queue ran (${late} s)`)
  t.equal(sample((await scrape(working.endpoint.url)).text, 'todo_job_queue_depth', { task: 'fire_reminder' }), 0, 'nothing waiting any more')
})

/** Whether src/database/create.ts reports its pools (src/metrics/signals.ts's header lists each layer's call). */
async function layersReport (): Promise<boolean> {
  const probe = openDatabase({ url: sharedUrl(), poolMax: 1 })
  try {
    return poolOf(probe.db) !== undefined
  } finally {
    await probe.destroy()
  }
}

t.test('the layers below report by themselves', { skip: await layersReport() ? false : 'src/database does not call src/metrics/signals.ts yet' }, async (t) => {
  const handle = openDatabase({ url: sharedUrl(), poolMax: 1, role: SERVICE_ROLE })
  t.teardown(async () => { await handle.destroy() })
  const { app, endpoint } = await withMetrics(t, { database: handle })
  await Promise.all(Array.from({ length: 3 }, async () => await sql`SELECT pg_sleep(0.05)`.execute(handle.db)))
  await sql`SELECT 1 / 0`.execute(handle.db).catch(() => {})
  const stream = app.eventHub.subscribe(newUser().id, { id: randomUUID(), wake: () => {}, end: () => {}, take: () => {} })
  const { text } = await scrape(endpoint.url)
  await stream.unsubscribe()
  t.equal(sample(text, 'todo_db_pool_max_connections'), 1)
  t.ok((sample(text, 'todo_db_pool_wait_seconds_count') ?? 0) >= 4, 'every statement waited for the one connection')
  t.ok((sample(text, 'todo_db_statement_errors_total', { code: '22012' }) ?? 0) >= 1, 'division by zero, by its SQLSTATE')
  t.equal(sample(text, 'todo_event_streams_open'), 1, 'the hub counts its streams')

  // A job that fails (a reminder whose task id is no uuid), with one attempt only: given up.
  const { url, db: owner } = await isolatedDatabase(t)
  const database = openDatabase({ url, poolMax: 2, role: SERVICE_ROLE })
  t.teardown(async () => { await database.destroy() })
  const working = await withMetrics(t, { database, env: { DATABASE_URL: url, JOB_CONCURRENCY: '1' } })
  await sql`SELECT graphile_worker.add_job('fire_reminder', json_build_object('user_id', 'nobody', 'task_id', 'not-a-uuid', 'reminder', 0, 'scheduled_for', now()), max_attempts := 1)`.execute(owner)
  await eventually('the job failed', async () => (await scrape(working.endpoint.url)).text, (text) => sample(text, 'todo_job_failures_total', { task: 'fire_reminder', final: 'true' }) === 1, 15_000)
  t.pass('the queue reports its jobs\' failures')
})

t.test('METRICS_PORT unset: no metrics at all', async (t) => {
  const app = await buildTestApp(t)
  t.equal(app.hasDecorator('metrics'), false, 'nothing kept, nothing to serve')
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
  t.equal(testConfig().metrics, undefined)
})

t.test('configuration', async (t) => {
  const base = { JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://h/db' }
  const refusal = (env: Record<string, string>): string => {
    try {
      loadConfig({ ...base, ...env })
    } catch (error) {
      if (error instanceof ConfigError) return error.message
      throw error
    }
    return 'accepted'
  }
  t.same(loadConfig({ ...base, METRICS_PORT: '9464' }).metrics, { port: 9464, host: '127.0.0.1', token: undefined }, 'loopback by default, no token needed there')
  for (const host of ['127.0.0.1', '127.8.9.10', '::1', 'localhost', '::ffff:127.0.0.1']) {
    t.equal(loadConfig({ ...base, METRICS_PORT: '9464', METRICS_HOST: host }).metrics?.host, host, `${host} needs no token`)
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'metrics.internal']) {
    t.match(refusal({ METRICS_PORT: '9464', METRICS_HOST: host }), /METRICS_TOKEN is required when METRICS_HOST .* is not a loopback address/, `${host} needs a token`)
    t.equal(loadConfig({ ...base, METRICS_PORT: '9464', METRICS_HOST: host, METRICS_TOKEN: TOKEN }).metrics?.token, TOKEN)
  }
  t.match(refusal({ METRICS_PORT: '3000' }), /METRICS_PORT must differ from PORT \(3000\)/)
  t.match(refusal({ METRICS_PORT: '8080', PORT: '8080' }), /METRICS_PORT must differ from PORT/)
  t.equal(loadConfig({ ...base, METRICS_PORT: '0', PORT: '0' }).metrics?.port, 0, 'two free ports picked: never the same')
  t.match(refusal({ METRICS_TOKEN: TOKEN }), /METRICS_TOKEN is set but METRICS_PORT is not/)
  t.match(refusal({ METRICS_PORT: '9464', METRICS_TOKEN: 'short' }), /METRICS_TOKEN must NOT have fewer than 16 characters/)
  t.match(refusal({ METRICS_PORT: '9464', METRICS_TOKEN: 'with a space in it, long enough' }), /METRICS_TOKEN must match pattern/)
  t.match(refusal({ METRICS_PORT: '65536' }), /METRICS_PORT must be <= 65535/)
  t.match(refusal({ METRICS_PORT: 'ninety' }), /METRICS_PORT must be integer/)
  const several = refusal({ METRICS_PORT: '3000', METRICS_HOST: '0.0.0.0' })
  t.match(several, /METRICS_PORT must differ[\s\S]*METRICS_TOKEN is required/, 'every problem together, one line each')
})
