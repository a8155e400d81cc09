/**
 * The service refuses to start when row-level security would not hold for the role it works
 * as, and says why; with RLS_ENABLED=false it starts on the same database (as its owner).
 */
import { sql } from 'kysely'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

t.test('start-up check of row-level security', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const env = { DATABASE_URL: url, JWT_SECRET: TEST_SECRET, NODE_ENV: 'test', LOG_LEVEL: 'info' }

  await sql`ALTER TABLE tasks DISABLE ROW LEVEL SECURITY`.execute(db)
  await t.rejects(startServer(t, env), /exited with 1[\s\S]*row-level security would not hold: row-level security is off on tasks/,
    'a table without row security: the service does not start')

  const server = await startServer(t, { ...env, RLS_ENABLED: 'false' })
  const response = await fetch(`${server.baseUrl}/api/me/tasks`, { headers: bearer(tokenFor(newUserId())) })
  t.equal(response.status, 200, 'RLS_ENABLED=false: it starts and serves as the login role')
  t.equal(await server.stop(), 0)
})
