/**
 * The real process, as a newcomer runs it: no DATABASE_URL and no JWT key, so it starts the
 * embedded PostgreSQL and a local secret in its data folder. Data survives a restart, and
 * SIGTERM stops the service and the embedded database cleanly (exit code 0).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { freePort, ROOT, startServer } from '../helpers/server.js'

t.test('npm start on the embedded database', async (t) => {
  // Inside the checkout, not a 0700 temp folder: the embedded server may run as the
  // `postgres` user, which must be able to reach its data folder.
  const dataDir = path.join(ROOT, '.data', `e2e-${randomBytes(4).toString('hex')}`)
  mkdirSync(dataDir, { recursive: true, mode: 0o755 })
  t.teardown(() => { rmSync(dataDir, { recursive: true, force: true }) })
  const pgPort = await freePort()

  const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), NODE_ENV: 'development' }
  const first = await startServer(t, env)
  t.match(first.output(), /WARNING: no JWT_SECRET/, 'warns loudly about the local secret')
  t.match(first.output(), /npm run token/, 'and says how to mint a token')

  const ready = await fetch(`${first.baseUrl}/ready`)
  t.equal(ready.status, 200, '/ready answers 200')
  const docs = await fetch(`${first.baseUrl}/docs/`)
  t.equal(docs.status, 200, '/docs serves Swagger UI')
  t.match(await docs.text(), /swagger/i)

  const secret = readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim()
  const token = createSigner({ key: secret, expiresIn: 600_000 })({ sub: 'newcomer' })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const created = await fetch(`${first.baseUrl}/api/me/categories`, { method: 'POST', headers, body: JSON.stringify({ name: 'Kept' }) })
  t.equal(created.status, 201)

  t.equal(await first.stop('SIGTERM'), 0, 'SIGTERM exits 0')

  const second = await startServer(t, env)
  t.notMatch(second.output(), /generated a secret/, 'reuses the secret it made')
  const list = await fetch(`${second.baseUrl}/api/me/categories`, { headers })
  t.same(((await list.json()) as { items: Array<{ name: string }> }).items.map((c) => c.name), ['Kept'], 'data survived the restart')
  t.equal(await second.stop('SIGINT'), 0, 'SIGINT exits 0')
})
