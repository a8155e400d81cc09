/** npm run mock: Prism serves the contract's examples, so front ends can start before a backend. */
import { spawn } from 'node:child_process'
import t from 'tap'
import { contractViolations } from '../../src/contract/conformance.js'
import { freePort, ROOT } from '../helpers/server.js'

t.test('the Prism mock answers with the contract\'s examples', async (t) => {
  const port = await freePort()
  const mock = spawn('npm', ['run', '-s', 'mock'], { cwd: ROOT, env: { ...process.env, MOCK_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  t.teardown(() => { try { process.kill(-(mock.pid as number), 'SIGKILL') } catch {} })
  let output = ''
  mock.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  mock.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`mock did not start:\n${output}`)) }, 60_000)
    mock.stdout?.on('data', () => { if (/Prism is listening/.test(output)) { clearTimeout(timer); resolve() } })
  })
  const response = await fetch(`http://127.0.0.1:${port}/api/me`, { headers: { authorization: 'Bearer anything' } })
  const body = await response.text()
  t.equal(response.status, 200)
  t.equal(JSON.parse(body).email, 'ada@example.com', 'the User example')
  t.same(contractViolations('GET', '/api/me', { status: response.status, headers: Object.fromEntries(response.headers), body }).filter((v) => !v.startsWith('header')), [], 'and it conforms to the contract')
})
