/**
 * The database goes away under a running service and comes back: requests get 503
 * problem+json with Retry-After, /ready is 503, the process stays up, and it recovers by
 * itself with no restart; nothing stored is lost.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { createDatabase } from '../../src/database/create.js'
import { EMBEDDED_DATABASE } from '../../src/bootstrap.js'
import { ensureDatabase } from '../../src/database/admin.js'
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres.js'
import { migrateToLatest } from '../../src/database/migrate.js'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { newUser } from '../helpers/factories.js'
import { freePort, ROOT } from '../helpers/server.js'

t.test('a database outage under a running service', async (t) => {
  const dataDir = path.join(ROOT, '.data', `outage-${randomBytes(4).toString('hex')}`)
  mkdirSync(dataDir, { recursive: true, mode: 0o755 })
  const port = await freePort()
  let server = await startEmbeddedPostgres({ dataDir, port })
  t.teardown(async () => { await server.stop(); rmSync(dataDir, { recursive: true, force: true }) })
  const url = await ensureDatabase(server.url, EMBEDDED_DATABASE)
  const migrator = createDatabase({ url, poolMax: 1 })
  await migrateToLatest(migrator, url)
  await migrator.destroy()

  const app = await buildTestApp(t, { ownPool: true, env: { DATABASE_URL: url } })
  const user = newUser()
  const created = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { title: 'Survives the outage' } })
  t.equal(created.statusCode, 201)

  await server.stop()
  for (const request of [{ method: 'GET', url: '/api/me/tasks' }, { method: 'POST', url: '/api/me/tasks', payload: { title: 'x' } }]) {
    const response = await inject(t, app, { ...request, headers: user.headers })
    t.equal(response.statusCode, 503, `${request.method} while the database is down`)
    t.equal(response.json().type, 'urn:todo-contract:problem:service-unavailable')
    t.ok(Number(response.headers['retry-after']) > 0, 'with Retry-After')
  }
  t.equal((await inject(t, app, { method: 'GET', url: '/ready' })).statusCode, 503, '/ready is 503')
  t.equal((await inject(t, app, { method: 'GET', url: '/health' })).statusCode, 200, '/health still 200: the process runs')

  server = await startEmbeddedPostgres({ dataDir, port })
  let status = 0
  const deadline = Date.now() + 20_000
  while (status !== 200 && Date.now() < deadline) {
    status = (await app.inject({ method: 'GET', url: '/ready' })).statusCode
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.equal(status, 200, 'recovers by itself')
  const list = await inject(t, app, { method: 'GET', url: '/api/me/tasks', headers: user.headers })
  t.same(list.json().items.map((task: { title: string }) => task.title), ['Survives the outage'], 'and nothing was lost')
})
