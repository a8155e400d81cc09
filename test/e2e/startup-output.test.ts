/**
 * What a normal start prints, from the real process on the embedded PostgreSQL: when stdout
 * is a pipe, JSON lines only and no warning of any kind; under a terminal (a pseudo-terminal
 * from util-linux `script`), human-readable lines, unless LOG_FORMAT=json. Its data folder
 * is one any user may enter, so started as root (PostgreSQL then runs as user postgres) it
 * works: the counterpart of test/e2e/root-private-folder.test.ts.
 */
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { freePort, ROOT, startServer } from '../helpers/server.js'
import { hasCommand } from '../helpers/commands.js'

const base = mkdtempSync(path.join(tmpdir(), 'todo-startup-'))
chmodSync(base, 0o755)
t.teardown(() => { rmSync(base, { recursive: true, force: true }) })
const env = {
  DATA_DIR: path.join(base, 'data'),
  EMBEDDED_PG_PORT: String(await freePort()),
  NODE_ENV: 'development',
  // A configured key: the loud local-secret notice is meant, not a warning to get rid of.
  JWT_SECRET: 's'.repeat(32)
}

const lines = (text: string): string[] => text.split(/\r?\n/).filter((line) => line.trim() !== '')
// eslint-disable-next-line no-control-regex
const withoutColours = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '')

/** The service under a pseudo-terminal; stopped with SIGTERM once it has listened and answered /ready. */
async function runInTerminal (t: Test, extra: Record<string, string>): Promise<{ output: string, code: number | null }> {
  const command = `exec '${process.execPath}' --import tsx src/server.ts`
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', LOG_LEVEL: 'info', TERM: 'xterm', ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => { resolve(code) }))
  const service: { pid?: number } = {}
  t.teardown(() => {
    if (child.exitCode !== null) return
    if (service.pid !== undefined) process.kill(service.pid, 'SIGKILL')
    child.kill('SIGKILL')
  })

  const listening = await new Promise<{ url: string, pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no "Server listening" within 60 s:\n${output}`)) }, 60_000)
    const check = (): void => {
      const plain = withoutColours(output)
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(plain)?.[1]
      // pino-pretty puts the pid after the level; as JSON it is a field.
      const pid = /\((\d+)\): Server listening/.exec(plain)?.[1] ?? /"pid":(\d+)[^\n]*Server listening/.exec(plain)?.[1]
      if (url !== undefined && pid !== undefined) { clearTimeout(timer); resolve({ url, pid: Number(pid) }) }
    }
    child.stdout.on('data', check)
    child.once('close', (code) => { clearTimeout(timer); reject(new Error(`exited with ${String(code)}:\n${output}`)) })
  })
  service.pid = listening.pid
  t.equal((await fetch(`${listening.url}/ready`)).status, 200, '/ready answers 200')
  // Not to `script`: on SIGTERM it kills its child after a moment, which may cut the
  // service's graceful stop (and the embedded PostgreSQL's) short.
  process.kill(listening.pid, 'SIGTERM')
  return { output, code: await exited }
}

t.test('stdout piped: JSON lines only, and no warning', async (t) => {
  const server = await startServer(t, env)
  t.equal((await fetch(`${server.baseUrl}/ready`)).status, 200, '/ready answers 200')
  t.equal(await server.stop('SIGTERM'), 0, 'SIGTERM exits 0')

  const output = lines(server.output())
  t.ok(output.some((line) => line.includes('Server listening')), 'it logged')
  const notJson = output.filter((line) => { try { JSON.parse(line); return false } catch { return true } })
  t.same(notJson, [], 'every line on stdout and stderr is a JSON log record (no process warning either)')
  const warnings = output.filter((line) => !notJson.includes(line)).map((line) => JSON.parse(line) as { level: number, msg: string }).filter((r) => r.level >= 40)
  t.same(warnings.map((r) => r.msg), [], 'nothing at level warn or above', { records: warnings })
})

t.test('stdout a terminal', { skip: hasCommand('script') ? false : 'needs `script` (util-linux)' }, async (t) => {
  t.test('human-readable lines', async (t) => {
    const { output, code } = await runInTerminal(t, {})
    t.equal(code, 0, 'SIGTERM exits 0', { output })
    const plain = lines(withoutColours(output))
    t.ok(plain.some((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(\d+\): Server listening at http:/.test(line)), 'time, level, pid, message')
    t.same(plain.filter((line) => line.startsWith('{')), [], 'no JSON')
    t.same(plain.filter((line) => /WARN|ERROR|Warning/.test(line)), [], 'no warning')
  })

  t.test('LOG_FORMAT=json keeps JSON', async (t) => {
    const { output, code } = await runInTerminal(t, { LOG_FORMAT: 'json' })
    t.equal(code, 0, 'SIGTERM exits 0', { output })
    const records = lines(output).map((line) => JSON.parse(line) as { msg: string })
    t.ok(records.some((r) => r.msg.startsWith('Server listening')), 'every line parses as JSON')
  })
})
