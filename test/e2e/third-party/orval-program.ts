// Run by test/e2e/third-party-clients.test.ts against the fetch client orval generated from the served openapi.json.
import { createTask, listTasks, replaceTask, toggleTaskCompletion, updateTask } from './orval/api.js'

declare const process: { env: Record<string, string | undefined> }
const auth = { authorization: `Bearer ${process.env.TOKEN as string}` }

const created = await createTask('me', { title: 'From orval' }, { headers: auth })
if (created.status !== 201) throw new Error(`create: ${created.status}`)
const id = created.data.id
const etag = created.headers.get('etag') as string
const page = await listTasks('me', { limit: 10 }, { headers: auth })
const replaced = await replaceTask('me', id, { title: 'Replaced by orval' }, { headers: { ...auth, 'If-Match': etag } })
const stale = await updateTask('me', id, { priority: 'low' }, { headers: { ...auth, 'If-Match': etag } })
const updated = await updateTask('me', id, { priority: 'high' }, { headers: auth })
const toggled = await toggleTaskCompletion('me', id, undefined, { headers: auth })
console.log(JSON.stringify({
  created: created.status,
  listed: page.status === 200 ? page.data.items.map((task) => task.title) : page.status,
  replaced: replaced.status === 200 ? replaced.data.title : replaced.status,
  staleStatus: stale.status,
  staleType: stale.status === 412 ? stale.data.type : undefined,
  updated: updated.status === 200 ? updated.data.priority : updated.status,
  completed: toggled.status === 200 ? toggled.data.completed : toggled.status
}))
