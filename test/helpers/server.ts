/**
 * The real service as a separate process (node --import tsx src/server.ts) on a free port,
 * for end-to-end tests. Resolves once it listens; stopped (SIGKILL) when the test ends.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import path from 'node:path'
import type { Test } from 'tap'

export const ROOT = path.resolve(import.meta.dirname, '../..')

/**
 * A port free on 127.0.0.1 now (the system's choice: a random pick can collide with another
 * test's, or with a client socket's ephemeral port).
 */
export async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => { resolve(port) })
    })
  })
}

export interface RunningServer { child: ChildProcess, baseUrl: string, output: () => string, stop: (signal?: NodeJS.Signals) => Promise<number | null> }

/** Starts the service with exactly these variables (plus PATH and HOME), nothing else of the test's environment. */
export async function startServer (t: Test, env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`server did not start:\n${output}`)) }, 60_000)
    const check = (): void => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match !== null) { clearTimeout(timer); resolve(match[1] as string) }
    }
    child.stdout?.on('data', check)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${String(code)}:\n${output}`)) })
  })
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null) return child.exitCode
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
    child.kill(signal)
    return await exited
  }
  return { child, baseUrl, output: () => output, stop }
}

/** `npm run contract-test` against a running service: its exit code and what it printed. */
export async function runContractTest (url: string, token: string): Promise<{ code: number, stdout: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/contract-test.ts', '--url', url, '--token', token], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? 1, stdout })
    })
  })
}
