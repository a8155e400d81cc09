/**
 * The trash (API.md part two, "Trash"): DELETE moves a task there, where only restoreTask,
 * purgeTask and listTrash reach it; clearCompletedTasks fills it; ids in the trash stay taken.
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { createCategory, createTask, newUser, type TestUser } from '../helpers/factories.js'

t.test('trash', async (t) => {
  const app = await buildTestApp(t)
  const trash = async (t: Test, user: TestUser, id: string): Promise<number> =>
    (await inject(t, app, { method: 'DELETE', url: `/api/me/tasks/${id}`, headers: user.headers })).statusCode
  const trashList = async (t: Test, user: TestUser, query = ''): Promise<Record<string, any>> =>
    (await inject(t, app, { method: 'GET', url: `/api/me/trash${query}`, headers: user.headers })).json()

  t.test('deleteTask moves the task to the trash, out of every task route', async (t) => {
    const user = newUser()
    const task = await createTask(t, app, user, { title: 'Old plan' })
    t.equal(await trash(t, user, task.id), 204)
    t.equal((await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}`, headers: user.headers })).statusCode, 404)
    t.same((await inject(t, app, { method: 'GET', url: '/api/me/tasks', headers: user.headers })).json().items, [], 'gone from the listing')
    for (const [method, url, payload] of [
      ['PATCH', `/api/me/tasks/${task.id as string}`, { title: 'x' }],
      ['PUT', `/api/me/tasks/${task.id as string}`, { title: 'x' }],
      ['PATCH', `/api/me/tasks/${task.id as string}/complete`, undefined],
      ['DELETE', `/api/me/tasks/${task.id as string}`, undefined]
    ] as const) {
      const response = await inject(t, app, { method, url, headers: user.headers, ...(payload === undefined ? {} : { payload }) })
      t.equal(response.statusCode, 404, `${method} ${url.split('/').slice(-1)[0] ?? ''}: 404 in the trash`)
    }
    const page = await trashList(t, user)
    t.equal(page.items.length, 1)
    t.match(page.items[0], { id: task.id, title: 'Old plan', version: 2 })
    t.ok(page.items[0].deleted_at, 'with deleted_at')
    t.not(page.items[0].updated_at, undefined)
  })

  t.test('restoreTask brings it back, as a change; 404 when it is not in the trash', async (t) => {
    const user = newUser()
    const task = await createTask(t, app, user)
    t.equal((await inject(t, app, { method: 'POST', url: `/api/me/tasks/${task.id as string}/restore`, headers: user.headers })).statusCode, 404, 'not in the trash yet')
    await trash(t, user, task.id)
    const restored = await inject(t, app, { method: 'POST', url: `/api/me/tasks/${task.id as string}/restore`, headers: user.headers })
    t.equal(restored.statusCode, 200)
    t.match(restored.json(), { id: task.id, deleted_at: null, version: 3 })
    t.equal(restored.headers.etag, '"3"')
    t.equal((await inject(t, app, { method: 'GET', url: `/api/me/tasks/${task.id as string}`, headers: user.headers })).statusCode, 200)
    t.same((await trashList(t, user)).items, [])
    t.equal((await inject(t, app, { method: 'POST', url: `/api/me/tasks/${randomUUID()}/restore`, headers: user.headers })).statusCode, 404, 'unknown id')
  })

  t.test('purgeTask deletes a task in the trash for good; 404 for one that is not there', async (t) => {
    const user = newUser()
    const kept = await createTask(t, app, user, { title: 'kept' })
    const doomed = await createTask(t, app, user, { title: 'doomed' })
    t.equal((await inject(t, app, { method: 'DELETE', url: `/api/me/trash/${kept.id as string}`, headers: user.headers })).statusCode, 404, 'a task not in the trash is not purged')
    t.equal((await inject(t, app, { method: 'GET', url: `/api/me/tasks/${kept.id as string}`, headers: user.headers })).statusCode, 200, 'and stays')
    await trash(t, user, doomed.id)
    t.equal((await inject(t, app, { method: 'DELETE', url: `/api/me/trash/${doomed.id as string}`, headers: user.headers })).statusCode, 204)
    t.same((await trashList(t, user)).items, [])
    t.equal((await inject(t, app, { method: 'POST', url: `/api/me/tasks/${doomed.id as string}/restore`, headers: user.headers })).statusCode, 404, 'gone for good')
  })

  t.test('clearCompletedTasks trashes every completed task, with one deleted_at, and counts them', async (t) => {
    const user = newUser()
    const category = await createCategory(t, app, user)
    await createTask(t, app, user, { title: 'open' })
    const done = [
      await createTask(t, app, user, { title: 'done 1', completed: true }),
      await createTask(t, app, user, { title: 'done 2', completed: true, category_id: category.id })
    ]
    const other = newUser()
    const foreign = await createCategory(t, app, other)
    const none = await inject(t, app, { method: 'POST', url: `/api/me/tasks/clear-completed?category_id=${foreign.id as string}`, headers: user.headers })
    t.same(none.json(), { trashed: 0 }, 'another user\'s category matches nothing')
    const one = await inject(t, app, { method: 'POST', url: `/api/me/tasks/clear-completed?category_id=${category.id as string}`, headers: user.headers })
    t.same(one.json(), { trashed: 1 }, 'only the category\'s')
    const rest = await inject(t, app, { method: 'POST', url: '/api/me/tasks/clear-completed', headers: user.headers })
    t.same(rest.json(), { trashed: 1 })
    const items = (await trashList(t, user)).items as Array<{ id: string, deleted_at: string }>
    t.same(new Set(items.map((i) => i.id)), new Set(done.map((d) => d.id)))
    const all = await inject(t, app, { method: 'GET', url: '/api/me/tasks', headers: user.headers })
    t.same(all.json().items.map((i: { title: string }) => i.title), ['open'])
    const user2 = newUser()
    await createTask(t, app, user2, { completed: true })
    await createTask(t, app, user2, { completed: true })
    t.same((await inject(t, app, { method: 'POST', url: '/api/me/tasks/clear-completed', headers: user2.headers })).json(), { trashed: 2 })
    const stamps = new Set(((await trashList(t, user2)).items as Array<{ deleted_at: string }>).map((i) => i.deleted_at))
    t.equal(stamps.size, 1, 'one request, one deleted_at')
  })

  t.test('listTrash pages newest first, with cursors of its own', async (t) => {
    const user = newUser()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const task = await createTask(t, app, user, { title: `t${i}` })
      await trash(t, user, task.id)
      ids.push(task.id)
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = await trashList(t, user, `?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      seen.push(...page.items.map((i: { id: string }) => i.id))
      cursor = page.next_cursor
    } while (cursor !== null)
    t.same(seen, [...ids].reverse(), 'newest deleted_at first, every task once')
    await createTask(t, app, user)
    await createTask(t, app, user)
    const listCursor = (await inject(t, app, { method: 'GET', url: '/api/me/tasks?limit=1', headers: user.headers })).json().next_cursor as string
    const mixed = await inject(t, app, { method: 'GET', url: `/api/me/trash?cursor=${encodeURIComponent(listCursor)}`, headers: user.headers })
    t.equal(mixed.statusCode, 400, 'a listTasks cursor is not a trash cursor')
    t.equal(mixed.json().type, 'urn:todo-contract:problem:invalid-cursor')
  })

  t.test('an id in the trash stays taken; another user\'s trash is out of reach', async (t) => {
    const user = newUser()
    const id = randomUUID()
    await createTask(t, app, user, { id })
    await trash(t, user, id)
    const again = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { id, title: 'reuse' } })
    t.equal(again.statusCode, 409, 'trash included')
    const intruder = newUser()
    t.same((await trashList(t, intruder)).items, [])
    t.equal((await inject(t, app, { method: 'POST', url: `/api/me/tasks/${id}/restore`, headers: intruder.headers })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'DELETE', url: `/api/me/trash/${id}`, headers: intruder.headers })).statusCode, 404)
    t.equal((await trashList(t, user)).items.length, 1, 'still in its owner\'s trash')
  })
})
