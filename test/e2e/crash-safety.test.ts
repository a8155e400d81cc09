/**
 * SIGKILL in the middle of a burst of writes: after a restart every write that was
 * acknowledged (2xx) is there, as acknowledged or newer, nothing is half-written, and the
 * event log holds exactly one event for each committed change and none for any other.
 */
import { sql } from 'kysely'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

t.test('a crash during a burst of writes', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const env = { DATABASE_URL: url, JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test', RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info' }
  const server = await startServer(t, env)
  const userId = newUserId('crash')
  const headers = { ...bearer(tokenFor(userId)), 'content-type': 'application/json' }

  const acknowledged = new Map<string, { title: string, version: number }>()
  const seed = await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: 'seed' }) })
  const seedTask = await seed.json() as { id: string, version: number }
  acknowledged.set(seedTask.id, { title: 'seed', version: 1 })

  const crash = { done: false }
  const worker = async (n: number): Promise<void> => {
    for (let i = 0; !crash.done; i++) {
      try {
        if (i % 3 === 2) {
          const response = await fetch(`${server.baseUrl}/api/me/tasks/${seedTask.id}`, { method: 'PATCH', headers, body: JSON.stringify({ title: `update ${n}-${i}` }) })
          if (response.ok) {
            const task = await response.json() as { title: string, version: number }
            const known = acknowledged.get(seedTask.id)
            if (known === undefined || task.version > known.version) acknowledged.set(seedTask.id, task)
          }
        } else {
          const title = `create ${n}-${i}`
          const response = await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers: { ...headers, 'idempotency-key': title }, body: JSON.stringify({ title, tags: ['burst'] }) })
          if (response.status === 201) {
            const task = await response.json() as { id: string, version: number }
            acknowledged.set(task.id, { title, version: task.version })
          }
        }
      } catch {
        return // the connection died with the process
      }
    }
  }
  const workers = Array.from({ length: 8 }, async (_, n) => { await worker(n) })
  // At least 1.5 s of burst and 30 acknowledged writes (a slow disk takes longer to get there).
  const burstStarted = Date.now()
  while ((Date.now() - burstStarted < 1_500 || acknowledged.size < 30) && Date.now() - burstStarted < 20_000) await new Promise((resolve) => setTimeout(resolve, 50))
  crash.done = true
  server.child.kill('SIGKILL')
  await Promise.all(workers)
  t.ok(acknowledged.size > 20, `${acknowledged.size} writes were acknowledged before the crash`)

  const restarted = await startServer(t, env)
  for (const [id, expected] of acknowledged) {
    const response = await fetch(`${restarted.baseUrl}/api/me/tasks/${id}`, { headers })
    if (response.status !== 200) { t.fail(`acknowledged task ${id} is missing`); continue }
    const task = await response.json() as { title: string, version: number }
    if (task.version < expected.version) t.fail(`task ${id} went back from version ${expected.version} to ${task.version}`)
  }
  t.pass('every acknowledged write survived')
  // Nothing half-written: each create with an Idempotency-Key committed its task and its key together.
  const orphans = await sql<{ n: string }>`
    SELECT count(*) AS n FROM idempotency_keys k
    WHERE k.user_id = ${userId}
      AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.user_id = k.user_id AND t.title = k.key)
  `.execute(db)
  t.equal(Number(orphans.rows[0]?.n), 0, 'no idempotency record without its task')
  const keyless = await sql<{ n: string }>`
    SELECT count(*) AS n FROM tasks t
    WHERE t.user_id = ${userId} AND t.title LIKE 'create %'
      AND NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.user_id = t.user_id AND k.key = t.title)
  `.execute(db)
  t.equal(Number(keyless.rows[0]?.n), 0, 'no task created under a key without its record')
  // The event log agrees with the data exactly: every committed change has its one event
  // (a task at version v has v events, the latest numbered as the task), no event exists for
  // a change that did not commit, and the numbers run without a gap up to the counter.
  const disagreements = await sql<{ id: string, version: number, events: string, latest: string | null, change_seq: string }>`
    SELECT t.id, t.version, t.change_seq, count(e.seq) AS events, max(e.seq) AS latest
    FROM tasks t LEFT JOIN events e ON e.user_id = t.user_id AND e.entity_id = t.id
    WHERE t.user_id = ${userId}
    GROUP BY t.id, t.version, t.change_seq
    HAVING count(e.seq) <> t.version OR max(e.seq) IS DISTINCT FROM t.change_seq
  `.execute(db)
  t.same(disagreements.rows, [], 'each task has exactly one event per committed change')
  const numbering = await sql<{ events: string, lowest: string, highest: string, counter: string }>`
    SELECT count(*) AS events, min(seq) AS lowest, max(seq) AS highest,
           (SELECT seq FROM change_counters WHERE user_id = ${userId}) AS counter
    FROM events WHERE user_id = ${userId}
  `.execute(db)
  const { events, lowest, highest, counter } = numbering.rows[0]!
  t.same({ events, lowest, highest }, { events: counter, lowest: '1', highest: counter }, 'events numbered 1..counter without a gap')
  const orphanEvents = await sql<{ n: string }>`
    SELECT count(*) AS n FROM events e
    WHERE e.user_id = ${userId} AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.user_id = e.user_id AND t.id = e.entity_id)
  `.execute(db)
  t.equal(Number(orphanEvents.rows[0]?.n), 0, 'no event of a change that did not commit')
  await restarted.stop()
})
