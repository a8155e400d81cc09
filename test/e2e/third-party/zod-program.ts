// Run by test/e2e/third-party-clients.test.ts with the zod schemas openapi-zod-client generated from the served openapi.json:
// a request body checked before it is sent, and each answer parsed by its schema.
import { schemas } from './zod/client.js'

declare const process: { env: Record<string, string | undefined> }
const headers = { authorization: `Bearer ${process.env.TOKEN as string}`, 'content-type': 'application/json' }
const base = process.env.BASE_URL as string

// 150 emoji: 150 characters to the service, 300 UTF-16 units to a JavaScript regex without `u`.
const title = '\u{1F389}'.repeat(150)
const body = schemas.TaskCreate.parse({ title, tags: ['zod'] })
const created = await fetch(`${base}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify(body) })
const task = schemas.Task.parse(await created.json())
const stale = await fetch(`${base}/api/me/tasks/${task.id}`, { method: 'PATCH', headers: { ...headers, 'if-match': '"999"' }, body: JSON.stringify(schemas.TaskPatch.parse({ priority: 'low' })) })
const problem = schemas.Problem.parse(await stale.json())
console.log(JSON.stringify({
  created: created.status,
  sameTitle: task.title === title,
  tooLong: schemas.TaskCreate.safeParse({ title: '\u{1F389}'.repeat(201) }).success,
  blank: schemas.TaskCreate.safeParse({ title: '   ' }).success,
  staleStatus: stale.status,
  staleType: problem.type
}))
