/** npm run seed: development data, idempotent. */
import { execFileSync } from 'node:child_process'
import { sql } from 'kysely'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'
import { ROOT } from '../helpers/server.js'

t.test('npm run seed', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const run = (): string => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/seed.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, JWT_SECRET: 'x'.repeat(32) },
    encoding: 'utf8'
  })
  t.match(run(), /alice: 3 categories, 5 tasks/)
  t.match(run(), /alice: has tasks already, left alone/, 'a second run changes nothing')
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM tasks WHERE user_id IN ('alice', 'bob')`.execute(db)
  t.equal(Number(rows[0]?.n), 10)
})
