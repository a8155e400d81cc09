/** npm run migrate / migrate:down against DATABASE_URL. */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'

const ROOT = path.resolve(import.meta.dirname, '../..')

t.test('npm run migrate and migrate:down', async (t) => {
  const { url } = await isolatedDatabase(t)
  const run = (direction: string): string => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', direction], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, JWT_SECRET: 'x'.repeat(32) },
    encoding: 'utf8'
  })
  t.match(run('latest'), /nothing to do/, 'the clone is up to date')
  t.match(run('down'), /reverted 202611240600_task_listing_and_retries/)
  t.match(run('latest'), /applied 202611240600_task_listing_and_retries/)
})
