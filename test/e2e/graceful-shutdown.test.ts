/**
 * SIGTERM while a request is in flight: the service stops accepting, lets the request finish
 * (within SHUTDOWN_GRACE_MS), then exits 0. A connection that never sent anything does not
 * hold the close open (src/plugins/unused-connections.ts).
 */
import { connect } from 'node:net'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { createDatabase } from '../../src/database/create.js'
import { sharedUrl } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

t.test('graceful shutdown', async (t) => {
  const server = await startServer(t, { DATABASE_URL: sharedUrl(), JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test', SHUTDOWN_GRACE_MS: '10000' })
  const headers = { ...bearer(tokenFor(newUserId('shutdown'))), 'content-type': 'application/json' }
  const created = await (await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: 'before' }) })).json() as { id: string }

  // Hold the task's row lock so that the PATCH below stays in flight until we let go.
  const locker = createDatabase({ url: sharedUrl(), poolMax: 1 })
  t.teardown(async () => { await locker.destroy() })
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  const holding = locker.transaction().execute(async (trx) => {
    await trx.selectFrom('tasks').select('id').where('id', '=', created.id).forUpdate().execute()
    await released
  })
  await new Promise((resolve) => setTimeout(resolve, 200))

  const inFlight = fetch(`${server.baseUrl}/api/me/tasks/${created.id}`, { method: 'PATCH', headers, body: JSON.stringify({ title: 'after' }) })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const exit = server.stop('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 300))
  await t.rejects(fetch(`${server.baseUrl}/health`, { headers: { connection: 'close' } }), 'no new connections once closing')

  release()
  await holding
  const response = await inFlight
  const text = await response.clone().text()
  t.equal(response.status, 200, `the in-flight request completed: ${text}`)
  t.equal(((await response.json()) as { title: string }).title, 'after')
  t.equal(await exit, 0, 'then the process exited 0')
})

t.test('a connection that never sent anything does not hold the close open', async (t) => {
  const app = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl() } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  // As a browser's preconnect: connected, silent.
  const silent = connect(port, '127.0.0.1')
  silent.on('error', () => {})
  await new Promise<void>((resolve) => { silent.once('connect', () => { resolve() }) })
  const closedByServer = new Promise<void>((resolve) => { silent.once('close', () => { resolve() }) })
  const started = Date.now()
  await app.close()
  const took = Date.now() - started
  await closedByServer
  t.ok(took < 5_000, `closed in ${took} ms (Node's close would wait for it until the client gives up)`)
})
