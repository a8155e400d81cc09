/**
 * Client-chosen ids (API.md part two, introduction): an offline client names a new task or
 * category itself. An id the caller already uses for that kind is 409 and changes nothing;
 * another user's identical id is another resource; a task and a category may share one.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { newUser } from '../helpers/factories.js'

t.test('client-chosen ids', async (t) => {
  const app = await buildTestApp(t)

  const kinds = [
    { operation: 'createTask', collection: 'tasks', body: { title: 'Water the plants' }, detail: 'is already one of your tasks' },
    { operation: 'createCategory', collection: 'categories', body: { name: 'Garden' }, detail: 'is already one of your categories' }
  ] as const
  for (const { operation, collection, body, detail } of kinds) {
    t.test(`${operation} creates under the id the client chose; that id again is 409 and changes nothing`, async (t) => {
      const user = newUser()
      const id = randomUUID()
      const created = await inject(t, app, { method: 'POST', url: `/api/me/${collection}`, headers: user.headers, payload: { id, ...body } })
      t.equal(created.statusCode, 201)
      t.equal(created.json().id, id)
      t.equal(created.headers.location, `/api/${encodeURIComponent(user.id)}/${collection}/${id}`)
      const again = await inject(t, app, { method: 'POST', url: `/api/me/${collection}`, headers: user.headers, payload: { id, ...body, [Object.keys(body)[0] as string]: 'Second' } })
      t.equal(again.statusCode, 409)
      t.equal(again.json().type, 'urn:todo-contract:problem:conflict')
      t.same(again.json().errors, [{ pointer: '/id', detail }])
      const fetched = await inject(t, app, { method: 'GET', url: `/api/me/${collection}/${id}`, headers: user.headers })
      t.match(fetched.json(), body, 'the first one, unchanged')
      const list = await inject(t, app, { method: 'GET', url: `/api/me/${collection}`, headers: user.headers })
      t.equal(list.json().items.length, 1, 'no second one')
    })

    t.test(`${operation} gives two users the same id as two resources`, async (t) => {
      const id = randomUUID()
      for (const [user, label] of [[newUser('alice'), 'Alice\'s'], [newUser('bob'), 'Bob\'s']] as const) {
        const created = await inject(t, app, { method: 'POST', url: `/api/me/${collection}`, headers: user.headers, payload: { id, ...body, [Object.keys(body)[0] as string]: label } })
        t.equal(created.statusCode, 201, `${label}: not a conflict, another user's id is another resource`)
        t.match((await inject(t, app, { method: 'GET', url: `/api/me/${collection}/${id}`, headers: user.headers })).json(), { id, user_id: user.id })
      }
    })
  }

  t.test('createTask', async (t) => {
    t.test('replays, not 409, a retry with the same Idempotency-Key and body', async (t) => {
      const user = newUser()
      const payload = { id: randomUUID(), title: 'Queued offline' }
      const headers = { ...user.headers, 'idempotency-key': randomUUID() }
      const first = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers, payload })
      const retry = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers, payload })
      t.equal(first.statusCode, 201)
      t.equal(retry.statusCode, 201)
      t.equal(retry.headers['idempotent-replayed'], 'true')
      t.equal(retry.body, first.body)
    })

    t.test('refuses an id that is not a UUID, and an id in a replace (ids never change)', async (t) => {
      const user = newUser()
      const bad = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { id: 'my-task-1', title: 'x' } })
      t.equal(bad.statusCode, 400)
      t.match(bad.json().errors, [{ pointer: '/id' }])
      const id = randomUUID()
      await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { id, title: 'x' } })
      const replaced = await inject(t, app, { method: 'PUT', url: `/api/me/tasks/${id}`, headers: user.headers, payload: { id: randomUUID(), title: 'y' } })
      t.equal(replaced.statusCode, 400)
      t.same(replaced.json().errors, [{ pointer: '/id', detail: 'is read-only' }])
    })
  })

  t.test('a task and a category may share an id', async (t) => {
    const user = newUser()
    const id = randomUUID()
    const category = await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: user.headers, payload: { id, name: 'Shared' } })
    const task = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { id, title: 'Same id', category_id: id } })
    t.equal(category.statusCode, 201)
    t.equal(task.statusCode, 201)
    t.equal(task.json().category_id, id, 'the task is in the category of the same id')
  })
})
