/** npm run migrate / migrate:down against DATABASE_URL. */
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const newest = readdirSync(path.join(ROOT, 'db/migrations')).filter((f) => f.endsWith('.ts')).sort().at(-1)?.replace(/\.ts$/, '')

t.test('npm run migrate and migrate:down', async (t) => {
  const { url } = await isolatedDatabase(t)
  const run = (direction: string): string => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', direction], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, JWT_SECRET: 'x'.repeat(32) },
    encoding: 'utf8'
  })
  t.match(run('latest'), /nothing to do/, 'the clone is up to date')
  t.ok(newest)
  t.match(run('down'), `reverted ${newest as string}`)
  t.match(run('latest'), `applied ${newest as string}`)
})
