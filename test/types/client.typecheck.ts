/**
 * Type-level test of the SDK, run by `npm run typecheck`: each `@ts-expect-error` below must
 * be an error. If the SDK stopped rejecting one of these, tsc would report the directive as
 * unused and the type check would fail.
 */
import { type AccountExport, createTodoClient, deleteCurrentUser, exportAccount, importAccount, runBatch } from 'todo-contract/client'

const api = createTodoClient({ baseUrl: 'http://127.0.0.1:3000', token: 'jwt' })
const path = { user_id: 'me' }

export async function wrongBodies (): Promise<void> {
  // A correct call compiles.
  await api.POST('/api/{user_id}/tasks', { params: { path }, body: { title: 'ok', priority: 'high', tags: ['a'] } })

  // @ts-expect-error title is required
  await api.POST('/api/{user_id}/tasks', { params: { path }, body: { priority: 'high' } })
  // @ts-expect-error priority is an enum
  await api.POST('/api/{user_id}/tasks', { params: { path }, body: { title: 'x', priority: 'urgent' } })
  // @ts-expect-error tags are strings
  await api.POST('/api/{user_id}/tasks', { params: { path }, body: { title: 'x', tags: [1] } })
  // @ts-expect-error the path parameter is required
  await api.GET('/api/{user_id}/tasks', {})
  // @ts-expect-error no such route
  await api.GET('/api/{user_id}/everything', { params: { path } })
  // @ts-expect-error limit is a number
  await api.GET('/api/{user_id}/tasks', { params: { path, query: { limit: 'ten' } } })

  const { data, error } = await api.GET('/api/{user_id}/tasks/{task_id}', { params: { path: { user_id: 'me', task_id: 'id' } } })
  if (data !== undefined) {
    const version: number = data.version
    // @ts-expect-error a Task has no such field
    console.log(version, data.owner)
  }
  if (error !== undefined) {
    const type: string = error.type
    console.log(type)
  }
}

export async function schedules (): Promise<void> {
  // Due dates, rules and reminders are typed fields of a task.
  await api.POST('/api/{user_id}/tasks', { params: { path }, body: { title: 'ok', due_date: '2026-05-04', recurrence_rule: 'FREQ=WEEKLY', reminders: [{ before_due: 'PT15M' }, { at: '2026-05-04T07:00:00Z' }] } })
  // @ts-expect-error a reminder is { at } or { before_due }
  await api.POST('/api/{user_id}/tasks', { params: { path }, body: { title: 'x', reminders: [{ when: 'soon' }] } })
  // @ts-expect-error due is one of the four views
  await api.GET('/api/{user_id}/tasks', { params: { path, query: { due: 'someday' } } })
  const { data } = await api.GET('/api/{user_id}/tasks/{task_id}/completions', { params: { path: { user_id: 'me', task_id: 'id' } } })
  const first: string | undefined = data?.items[0]?.occurrence_due
  console.log(first)
}

export async function structure (): Promise<void> {
  // Subtasks and the manual order: parent_id is writable, position is read only and a string.
  const { data: child } = await api.POST('/api/{user_id}/tasks', { params: { path }, body: { title: 'step', parent_id: 'parent-uuid' } })
  const position: string | undefined = child?.position
  const { data: moved } = await api.POST('/api/{user_id}/tasks/{task_id}/move', { params: { path: { user_id: 'me', task_id: 'id' } }, body: { parent_id: null, after_id: null } })
  const parent: string | null | undefined = moved?.parent_id
  // @ts-expect-error a move names both parent_id and after_id
  await api.POST('/api/{user_id}/tasks/{task_id}/move', { params: { path: { user_id: 'me', task_id: 'id' } }, body: { parent_id: null } })
  await api.GET('/api/{user_id}/tasks', { params: { path, query: { parent_id: 'none', sort: 'position' } } })
  console.log(position, parent)
}

export async function batchOperations (): Promise<void> {
  // A correct batch compiles, and its results are typed.
  const { data } = await runBatch(api, {
    atomic: true,
    operations: [
      { op: 'create_task', ref: 'a', body: { id: 'a-uuid', title: 'ok' } },
      { op: 'update_task', id: 'a-uuid', if_match: '"1"', body: { priority: 'high' } },
      { op: 'set_completion', id: 'a-uuid' },
      { op: 'delete_category', id: 'c-uuid' }
    ]
  }, { idempotencyKey: 'k' })
  if (data !== undefined) {
    const status: number = data.results[0]?.status ?? 0
    const etag: string | null = data.results[0]?.etag ?? null
    console.log(status, etag, data.committed)
  }

  // @ts-expect-error move_task needs its body (parent_id and after_id)
  await runBatch(api, { operations: [{ op: 'move_task', id: 'x' }] })
  await runBatch(api, { operations: [{ op: 'move_task', id: 'x', if_match: '"2"', body: { parent_id: null, after_id: 'y' } }] })
  // @ts-expect-error after_id is required (null: first)
  await runBatch(api, { operations: [{ op: 'move_task', id: 'x', body: { parent_id: null } }] })
  // @ts-expect-error create_task needs a body
  await runBatch(api, { operations: [{ op: 'create_task' }] })
  // @ts-expect-error update_task names its task
  await runBatch(api, { operations: [{ op: 'update_task', body: { title: 'x' } }] })
  // @ts-expect-error a create's id goes in body.id
  await runBatch(api, { operations: [{ op: 'create_category', id: 'x', body: { name: 'n' } }] })
  // @ts-expect-error the body is the single request's (TaskPatch)
  await runBatch(api, { operations: [{ op: 'update_task', id: 'x', body: { title: 1 } }] })
  // @ts-expect-error atomic is a boolean
  await runBatch(api, { atomic: 'yes', operations: [] })
}

export async function account (document: AccountExport): Promise<void> {
  // The export is a stream; the import takes the document and answers counts and secrets.
  const { data: stream } = await exportAccount(api)
  const body: ReadableStream<Uint8Array> | null | undefined = stream
  console.log(body)
  const { data } = await importAccount(api, document)
  const count: number | undefined = data?.tasks
  const secret: string | undefined = data?.webhooks[0]?.secret
  console.log(count, secret)
  await deleteCurrentUser(api, 'auth0|5f8d0e1c2b3a')

  // @ts-expect-error the import takes an export document
  await importAccount(api, { tasks: [] })
  // @ts-expect-error the deletion needs the caller's id to confirm it
  await deleteCurrentUser(api)
  // @ts-expect-error an export's format is fixed
  await importAccount(api, { ...document, format: 'todo-contract-export/2' })
}
