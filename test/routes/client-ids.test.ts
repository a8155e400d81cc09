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

  t.test('createTask', async (t) => {
    t.test('creates the task under the id the client chose', async (t) => {
      const user = newUser()
      const id = randomUUID()
      const response = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { id, title: 'Water the plants' } })
      t.equal(response.statusCode, 201)
      t.equal(response.json().id, id)
      t.equal(response.headers.location, `/api/${encodeURIComponent(user.id)}/tasks/${id}`)
      const fetched = await inject(t, app, { method: 'GET', url: `/api/me/tasks/${id}`, headers: user.headers })
      t.equal(fetched.json().title, 'Water the plants')
    })

    t.test('answers 409 naming /id when the caller has a task with that id, and changes nothing', async (t) => {
      const user = newUser()
      const id = randomUUID()
      await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { id, title: 'First' } })
      const again = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { id, title: 'Second', priority: 'high' } })
      t.equal(again.statusCode, 409)
      t.equal(again.json().type, 'urn:todo-contract:problem:conflict')
      t.same(again.json().errors, [{ pointer: '/id', detail: 'is already one of your tasks' }])
      const stored = (await inject(t, app, { method: 'GET', url: `/api/me/tasks/${id}`, headers: user.headers })).json()
      t.match(stored, { title: 'First', priority: 'medium', version: 1 })
      const list = await inject(t, app, { method: 'GET', url: '/api/me/tasks', headers: user.headers })
      t.equal(list.json().items.length, 1, 'no second task')
    })

    t.test('gives two users the same id as two tasks', async (t) => {
      const alice = newUser('alice')
      const bob = newUser('bob')
      const id = randomUUID()
      const mine = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: alice.headers, payload: { id, title: 'Alice\'s' } })
      const theirs = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: bob.headers, payload: { id, title: 'Bob\'s' } })
      t.equal(mine.statusCode, 201)
      t.equal(theirs.statusCode, 201, 'not a conflict: another user\'s id is another resource')
      t.equal((await inject(t, app, { method: 'GET', url: `/api/me/tasks/${id}`, headers: alice.headers })).json().title, 'Alice\'s')
      t.equal((await inject(t, app, { method: 'GET', url: `/api/me/tasks/${id}`, headers: bob.headers })).json().title, 'Bob\'s')
    })

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

  t.test('createCategory', async (t) => {
    t.test('creates the category under the id the client chose; a second one with it is 409', async (t) => {
      const user = newUser()
      const id = randomUUID()
      const created = await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: user.headers, payload: { id, name: 'Garden' } })
      t.equal(created.statusCode, 201)
      t.equal(created.json().id, id)
      const again = await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: user.headers, payload: { id, name: 'Other name' } })
      t.equal(again.statusCode, 409)
      t.same(again.json().errors, [{ pointer: '/id', detail: 'is already one of your categories' }])
      const list = await inject(t, app, { method: 'GET', url: '/api/me/categories', headers: user.headers })
      t.same(list.json().items.map((c: { name: string }) => c.name), ['Garden'])
    })

    t.test('lets a task and a category share an id, and two users share one', async (t) => {
      const alice = newUser('alice')
      const bob = newUser('bob')
      const id = randomUUID()
      const category = await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: alice.headers, payload: { id, name: 'Shared' } })
      const task = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: alice.headers, payload: { id, title: 'Same id', category_id: id } })
      const bobs = await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: bob.headers, payload: { id, name: 'Shared' } })
      t.equal(category.statusCode, 201)
      t.equal(task.statusCode, 201)
      t.equal(task.json().category_id, id, 'the task is in the category of the same id')
      t.equal(bobs.statusCode, 201)
    })
  })
})
