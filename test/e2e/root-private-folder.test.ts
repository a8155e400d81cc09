/**
 * Started as root with its data in a private folder (mode 0700), the service cannot run the
 * embedded PostgreSQL (which runs as the system user `postgres`): the real process must stop
 * at once, before initdb, with one sentence that names the folder and the fix, and exit 1;
 * no stack trace. (Started as root with the data where that user can reach it, it works:
 * test/e2e/startup-output.test.ts.)
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort, ROOT } from '../helpers/server.js'

interface Exit { code: number | null, stdout: string, stderr: string, ms: number }

async function run (env: Record<string, string>): Promise<Exit> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
  const code = await new Promise<number | null>((resolve) => child.once('close', (code) => { resolve(code) }))
  clearTimeout(timer)
  return { code, stdout, stderr, ms: Date.now() - started }
}

t.test('as root, DATA_DIR in a private folder: refused in one sentence', { skip: userInfo().uid === 0 ? false : 'only root runs PostgreSQL as another user' }, async (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'todo-private-')) // mode 0700
  t.teardown(() => { rmSync(parent, { recursive: true, force: true }) })
  const dataDir = path.join(parent, 'data')
  mkdirSync(dataDir)
  const pgPort = await freePort()

  const result = await run({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), JWT_SECRET: 's'.repeat(32) })
  t.equal(result.code, 1, 'exits 1')
  t.equal(result.stdout, '', 'nothing on stdout')
  t.equal(result.stderr,
    `todo-contract failed to start: started as root, the embedded PostgreSQL runs as the system user postgres, who cannot enter ${parent} (mode 0700) on the way to DATA_DIR ${dataDir}; set DATA_DIR to a folder that user can enter, run as a normal user, or set DATABASE_URL to a PostgreSQL server of your own.\n`,
    'one line: the folder, its mode and the fixes')
  t.notMatch(result.stderr, /EACCES|\n\s+at /, 'no stack trace')
  t.notOk(existsSync(path.join(dataDir, 'pg')), 'initdb never ran')
  t.notOk(existsSync(path.join(dataDir, 'pg-password')), 'nothing written into DATA_DIR')
  t.ok(result.ms < 30_000, `at once (${result.ms} ms)`)
})
