/**
 * The job queue's life in a process (src/jobs/queue.ts): a service closed while its queue is
 * still starting (a SIGTERM as it comes up) closes promptly, its connections ended.
 */
import { sql } from 'kysely'
import t from 'tap'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import { buildTestApp } from '../helpers/build-app.js'
import { isolatedDatabase } from '../helpers/database.js'

t.test('closing while the queue starts does not wait for it forever', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const database = openDatabase({ url, poolMax: 3, role: SERVICE_ROLE })
  t.teardown(async () => { await database.destroy() })
  for (let i = 0; i < 3; i++) {
    const app = await buildTestApp(t, { database, env: { JOB_CONCURRENCY: '2' } })
    await app.ready()
    const started = Date.now()
    const closed = await Promise.race([app.close().then(() => true), new Promise((resolve) => setTimeout(() => { resolve(false) }, 8_000))])
    t.ok(closed, `closed in ${Date.now() - started} ms`)
  }
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'todo-contract jobs'
  `.execute(db)
  t.equal(Number(rows[0]?.n), 0, 'no connection of the queue is left open')
})
