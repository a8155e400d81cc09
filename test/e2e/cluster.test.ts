/** WEB_CONCURRENCY=2: two workers share the port; SIGTERM stops them all and exits 0. */
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { sharedUrl } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'src/server.ts'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

t.test('WEB_CONCURRENCY=2', async (t) => {
  const server = await startServer(t, { DATABASE_URL: sharedUrl(), JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test', WEB_CONCURRENCY: '2' })
  // Both workers listening.
  const deadline = Date.now() + 30_000
  while ((server.output().match(/Server listening/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  const workers = childrenOf(server.child.pid as number)
  t.equal(workers.length, 2, 'two worker processes')

  const headers = bearer(tokenFor(newUserId('cluster')))
  const responses = await Promise.all(Array.from({ length: 20 }, async () => await fetch(`${server.baseUrl}/api/me`, { headers })))
  t.same(responses.map((r) => r.status), Array(20).fill(200))

  t.equal(await server.stop('SIGTERM'), 0, 'the primary exits 0')
  for (const pid of workers) {
    let alive = true
    try { process.kill(pid, 0) } catch { alive = false }
    t.notOk(alive, `worker ${pid} is gone`)
  }
})
