// Run by test/e2e/third-party-clients.test.ts against the client @hey-api/openapi-ts generated from the served openapi.json.
import { client } from './hey/client.gen.js'
import { createTask, listTasks, replaceTask, toggleTaskCompletion, updateTask } from './hey/index.js'

declare const process: { env: Record<string, string | undefined> }
client.setConfig({ baseUrl: process.env.BASE_URL as string, auth: () => process.env.TOKEN as string })
const path = { user_id: 'me' }

const created = await createTask({ path, body: { title: 'From hey-api' } })
if (created.data === undefined) throw new Error(`create: ${created.response.status}`)
const id = created.data.id
const etag = created.response.headers.get('etag') as string
const page = await listTasks({ path, query: { limit: 10 } })
const replaced = await replaceTask({ path: { ...path, task_id: id }, headers: { 'If-Match': etag }, body: { title: 'Replaced by hey-api' } })
const stale = await updateTask({ path: { ...path, task_id: id }, headers: { 'If-Match': etag }, body: { priority: 'low' } })
const updated = await updateTask({ path: { ...path, task_id: id }, body: { priority: 'high' } })
const toggled = await toggleTaskCompletion({ path: { ...path, task_id: id } })
console.log(JSON.stringify({
  created: created.response.status,
  listed: page.data?.items.map((task) => task.title),
  replaced: replaced.data?.title,
  staleStatus: stale.response.status,
  staleType: stale.error?.type,
  updated: updated.data?.priority,
  completed: toggled.data?.completed
}))
