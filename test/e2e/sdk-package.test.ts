/**
 * The SDK as someone else gets it: `npm run sdk:pack`'s tarball installed into an empty
 * project (its one dependency, openapi-fetch, from the registry or npm's cache), a small
 * program type-checked against it with `tsc --strict`, then run against a live server:
 * create, list page by page, update with If-Match, a 412 read as a problem, a sync, and an
 * event received over a subscription.
 */
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedUrl } from '../helpers/database.js'
import { ROOT } from '../helpers/server.js'
import { newUserId, tokenFor } from '../helpers/tokens.js'

const PROGRAM = `import { createTodoClient, etagOf, syncAll, subscribe, type Task, type TodoEvent } from 'todo-contract-client'

// A browser-typed program (lib dom): of Node.js, it reads only its environment.
declare const process: { env: Record<string, string | undefined> }

const api = createTodoClient({ baseUrl: process.env.BASE_URL as string, token: () => process.env.TOKEN as string })
const me = { user_id: 'me' }
const titles = ['first', 'second', 'third']
const created: Task[] = []
for (const title of titles) {
  const { data, error } = await api.POST('/api/{user_id}/tasks', { params: { path: me }, body: { title } })
  if (error !== undefined) throw new Error(error.detail)
  created.push(data)
}
const listed: string[] = []
let cursor: string | undefined
do {
  const { data } = await api.GET('/api/{user_id}/tasks', { params: { path: me, query: { limit: 2, sort: 'created_at', order: 'asc', ...(cursor === undefined ? {} : { cursor }) } } })
  if (data === undefined) throw new Error('no page')
  listed.push(...data.items.map((task: Task) => task.title))
  cursor = data.next_cursor ?? undefined
} while (cursor !== undefined)

const first = created[0] as Task
const read = await api.GET('/api/{user_id}/tasks/{task_id}', { params: { path: { ...me, task_id: first.id } } })
const etag = etagOf(read.response) as string
const updated = await api.PATCH('/api/{user_id}/tasks/{task_id}', { params: { path: { ...me, task_id: first.id }, header: { 'If-Match': etag } }, body: { priority: 'high' } })
const stale = await api.PATCH('/api/{user_id}/tasks/{task_id}', { params: { path: { ...me, task_id: first.id }, header: { 'If-Match': etag } }, body: { priority: 'low' } })
const synced = await syncAll(api)

const abort = new AbortController()
const received: TodoEvent[] = []
const subscription = subscribe(api, { signal: abort.signal, onEvent: (event) => { received.push(event); abort.abort() } })
await new Promise((resolve) => setTimeout(resolve, 500))
await api.POST('/api/{user_id}/tasks', { params: { path: me }, body: { title: 'while subscribed' } })
await Promise.race([subscription, new Promise((resolve) => setTimeout(resolve, 10_000))])
abort.abort()

console.log(JSON.stringify({
  listed,
  updated: updated.data?.priority,
  staleStatus: stale.response.status,
  staleType: stale.error?.type,
  synced: synced.tasks.length,
  event: received[0]?.type
}))
`

t.test('the packed SDK, installed and used by another project', async (t) => {
  const tarball = execFileSync('npm', ['run', '--silent', 'sdk:pack'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').at(-1) as string
  t.match(path.basename(tarball), /^todo-contract-client-\d+\.\d+\.\d+\.tgz$/)

  const project = mkdtempSync(path.join(tmpdir(), 'sdk-user-'))
  t.teardown(() => { rmSync(project, { recursive: true, force: true }) })
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'sdk-user', private: true, type: 'module' }))
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: project, stdio: 'pipe' })
  const installed = JSON.parse(readFileSync(path.join(project, 'node_modules/todo-contract-client/package.json'), 'utf8')) as { dependencies: Record<string, string> }
  t.same(Object.keys(installed.dependencies), ['openapi-fetch'], 'its one dependency')

  writeFileSync(path.join(project, 'program.ts'), PROGRAM)
  // The repository's TypeScript, run in the project: modules resolve from the project's node_modules.
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '--strict', '--noUncheckedIndexedAccess', '--target', 'es2023', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2023,dom', '--skipLibCheck', 'false', '--outDir', 'out', 'program.ts'], { cwd: project, stdio: 'pipe' })

  // The database's URL for the event hub's LISTEN connection (live events).
  const app = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl() } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  // Asynchronously: the server runs in this process.
  const { stdout: output } = await promisify(execFile)(process.execPath, ['out/program.js'], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', BASE_URL: baseUrl, TOKEN: tokenFor(newUserId('sdk-package'), { expiresIn: 600 }) }, timeout: 30_000 })
  const result = JSON.parse(output.trim().split('\n').at(-1) as string) as Record<string, unknown>
  t.same(result.listed, ['first', 'second', 'third'], 'three tasks over two pages')
  t.equal(result.updated, 'high', 'updated with If-Match')
  t.equal(result.staleStatus, 412)
  t.equal(result.staleType, 'urn:todo-contract:problem:precondition-failed', 'the problem, typed')
  t.equal(result.synced, 3, 'a full sync')
  t.equal(result.event, 'task.created', 'a live event over the subscription')
})
