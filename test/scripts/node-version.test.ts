/**
 * On a Node.js older than the supported lines (18, the previous LTS), every way in stops at
 * once with the one sentence and exit code 1: each tsx script package.json runs, the service
 * from source, and `npm start` / `npm run dev` (which check before building or watching).
 * Node 18 comes from the npm registry into the runtime cache (scripts/with-node.sh); when it
 * cannot be installed the runs are skipped, saying why.
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { unsupportedNodeMessage } from '../../src/node-version.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const OLD_LINE = '18'
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }, scripts: Record<string, string> }

/** The files package.json's scripts hand to tsx (`tsx [watch] FILE`). */
const tsxEntries = [...new Set(Object.values(manifest.scripts).flatMap((script) =>
  [...script.matchAll(/(?:^|&&\s*)tsx\s+(?:watch\s+)?(\S+\.ts)/g)].map((m) => m[1] as string)))].sort()

/** The first import of a TypeScript file: what ESM evaluates first. */
function firstImport (file: string): string | undefined {
  return /^import\s+(?:[^'"]*from\s+)?'([^']+)'/m.exec(readFileSync(path.join(ROOT, file), 'utf8'))?.[1]
}

t.test('every entry imports the version check first; npm start and npm run dev run it first', async (t) => {
  t.ok(tsxEntries.length >= 8, `tsx entries found: ${tsxEntries.join(', ')}`)
  for (const file of tsxEntries.filter((f) => f !== 'src/node-version.ts')) {
    t.match(firstImport(file), /^(\.\.\/src|\.)\/node-version\.js$/, file)
  }
  t.match(manifest.scripts.prestart, /^tsx src\/node-version\.ts && /, 'prestart checks before it builds')
  t.match(manifest.scripts.dev, /^tsx src\/node-version\.ts && /, 'dev checks before tsx watch (which would keep watching)')
})

function oldNode (): { node: string } | { reason: string } {
  try {
    const node = execFileSync('bash', [path.join(ROOT, 'scripts/with-node.sh'), OLD_LINE], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 }).trim()
    return { node }
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ''
    return { reason: `Node.js ${OLD_LINE} could not be installed from the npm registry: ${stderr.trim().split('\n').at(-1) ?? String(error)}` }
  }
}

interface Run { code: number | null, stdout: string, stderr: string }

/** Runs a command with the old Node first on PATH, as a user would; killed (whole group) past 60 s. */
async function run (bin: string, command: string, args: string[]): Promise<Run> {
  // Should the check ever let a run through, it finds no database and no port to take.
  const env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? '',
    DATABASE_URL: 'postgres://127.0.0.1:1/none',
    TEST_DATABASE_URL: 'postgres://127.0.0.1:1/none',
    BENCH_DATABASE_URL: 'postgres://127.0.0.1:1/none',
    PORT: '1',
    NO_UPDATE_NOTIFIER: '1'
  }
  // tap's process-info hook puts itself into NODE_OPTIONS of every child a test spawns; it
  // cannot load on Node 18 (no global crypto) and no user has it, so env drops it again.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', command, ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const timer = setTimeout(() => { try { process.kill(-(child.pid as number), 'SIGKILL') } catch {} }, 60_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', (code) => { resolve(code) }))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

const found = oldNode()

t.test(`on Node.js ${OLD_LINE}, everything stops at once with one sentence`, { skip: 'reason' in found ? found.reason : false }, async (t) => {
  if (!('node' in found)) return
  const bin = path.dirname(found.node)
  const version = execFileSync(found.node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
  const sentence = unsupportedNodeMessage(version, manifest.engines.node)
  if (sentence === undefined) throw new Error(`Node.js ${version} is supported: pick an older line for this test`)

  for (const file of tsxEntries) {
    const result = await run(bin, found.node, ['node_modules/tsx/dist/cli.mjs', file])
    t.same(result, { code: 1, stdout: '', stderr: sentence + '\n' }, `tsx ${file}`)
  }
  for (const script of ['start', 'dev', 'test']) {
    const result = await run(bin, 'npm', ['run', script])
    // npm's own lines (a newer npm than the old Node may warn about it) aside, the sentence alone.
    const ours = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('npm '))
    t.same({ code: result.code, stderr: ours }, { code: 1, stderr: [sentence] }, `npm run ${script}`)
  }
})
