// Run by test/e2e/third-party-clients.test.ts against the client swagger-typescript-api generated from the served openapi.json.
import { Api, type HttpResponse, Priority, type Problem, type Task } from './sta/api.js'

declare const process: { env: Record<string, string | undefined> }
const api = new Api({ baseUrl: process.env.BASE_URL as string, baseApiParams: { headers: { authorization: `Bearer ${process.env.TOKEN as string}` } } })

const created = await api.api.createTask('me', { title: 'From swagger-typescript-api' })
const id = created.data.id
const etag = created.headers.get('etag') as string
const page = await api.api.listTasks('me', { limit: 10 })
const replaced = await api.api.replaceTask('me', id, { title: 'Replaced by swagger-typescript-api' }, { headers: { 'If-Match': etag } })
// Its client throws the response of a refusal, with the problem parsed into `error`.
const stale = await api.api.updateTask('me', id, { priority: Priority.Low }, { headers: { 'If-Match': etag } })
  .then((response) => response, (response: HttpResponse<Task, Problem>) => response)
const updated = await api.api.updateTask('me', id, { priority: Priority.High })
const toggled = await api.api.toggleTaskCompletion('me', id)
console.log(JSON.stringify({
  created: created.status,
  listed: page.data.items.map((task) => task.title),
  replaced: replaced.data.title,
  staleStatus: stale.status,
  staleType: stale.error?.type,
  updated: updated.data.priority,
  completed: toggled.data.completed
}))
