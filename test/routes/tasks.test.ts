/** Task CRUD, concurrency control and completion (API.md "Resources" and "Routes"). */
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { createCategory, createTask, newUser } from '../helpers/factories.js'

const TASKS = '/api/me/tasks'

t.test('tasks', async (t) => {
  const app = await buildTestApp(t)

  t.test('createTask', async (t) => {
    t.test('answers 201 with Location and ETag, defaults applied', async (t) => {
      const user = newUser()
      const response = await inject(t, app, { method: 'POST', url: TASKS, headers: user.headers, payload: { title: 'Buy milk' } })
      t.equal(response.statusCode, 201)
      const task = response.json()
      t.match(task, {
        user_id: user.id,
        title: 'Buy milk',
        description: null,
        completed: false,
        completed_at: null,
        priority: 'medium',
        due_at: null,
        category_id: null,
        tags: [],
        version: 1
      })
      t.equal(task.created_at, task.updated_at)
      t.equal(response.headers.location, `/api/${encodeURIComponent(user.id)}/tasks/${task.id as string}`)
      t.equal(response.headers.etag, '"1"')
    })

    t.test('trims the title, lowercases and merges tags in first-seen order', async (t) => {
      const user = newUser()
      const category = await createCategory(t, app, user)
      const task = await createTask(t, app, user, {
        title: '  File taxes \n',
        tags: ['Home', 'finance', 'HOME', ' Finance ', 'x'],
        priority: 'high',
        due_at: '2026-04-30T17:00:00+02:00',
        description: 'Blue folder',
        category_id: category.id,
        completed: true
      })
      t.equal(task.title, 'File taxes')
      t.same(task.tags, ['home', 'finance', 'x'])
      t.equal(task.due_at, '2026-04-30T15:00:00.000Z', 'stored and returned in UTC')
      t.equal(task.category_id, category.id)
      t.equal(task.completed, true)
      t.ok(task.completed_at, 'completed_at is set when created completed')
    })

    t.test('counts title length in code points after trimming', async (t) => {
      const user = newUser()
      t.equal((await createTask(t, app, user, { title: ` ${'🎉'.repeat(200)} ` })).title, '🎉'.repeat(200))
      const tooLong = await inject(t, app, { method: 'POST', url: TASKS, headers: user.headers, payload: { title: 'x'.repeat(201) } })
      t.equal(tooLong.statusCode, 400)
    })

    t.test('answers 400 naming each bad field, and stores nothing', async (t) => {
      const user = newUser()
      const cases: Array<[Record<string, unknown>, string]> = [
        [{}, '/title'],
        [{ title: '' }, '/title'],
        [{ title: '   ' }, '/title'],
        [{ title: 5 }, '/title'],
        [{ title: 'ok', description: 'x'.repeat(1001) }, '/description'],
        [{ title: 'ok', priority: 'urgent' }, '/priority'],
        [{ title: 'ok', due_at: 'tomorrow' }, '/due_at'],
        [{ title: 'ok', category_id: 'not-a-uuid' }, '/category_id'],
        [{ title: 'ok', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, '/tags'],
        [{ title: 'ok', tags: ['ok', 'x'.repeat(41)] }, '/tags/1'],
        [{ title: 'ok', tags: ['ok', ''] }, '/tags/1'],
        // 40 characters as sent, 80 once lowercased ('İ' is 'i' and a combining dot).
        [{ title: 'ok', tags: ['ok', 'İ'.repeat(40)] }, '/tags/1'],
        [{ title: 'ok', completed: 'yes' }, '/completed'],
        [{ title: 'ok', version: 7 }, '/version'],
        [{ title: 'ok', id: 'not-a-uuid' }, '/id'],
        [{ title: 'ok', colour: 'red' }, '/colour']
      ]
      for (const [payload, pointer] of cases) {
        const response = await inject(t, app, { method: 'POST', url: TASKS, headers: user.headers, payload })
        t.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 60))
        t.ok(response.json().errors?.some((e: { pointer?: string }) => e.pointer === pointer), `names ${pointer}`)
      }
      const readOnly = await inject(t, app, { method: 'POST', url: TASKS, headers: user.headers, payload: { title: 'ok', version: 2 } })
      t.same(readOnly.json().errors, [{ pointer: '/version', detail: 'is read-only' }])
      const list = await inject(t, app, { method: 'GET', url: TASKS, headers: user.headers })
      t.same(list.json().items, [])
    })

    t.test('answers 400, not 500, for a date the database cannot store', async (t) => {
      const response = await inject(t, app, { method: 'POST', url: TASKS, headers: newUser().headers, payload: { title: 'ok', due_at: '0000-01-01T00:00:00Z' } })
      t.equal(response.statusCode, 400)
    })

    t.test('answers 422 for a category that is not the caller\'s', async (t) => {
      const user = newUser()
      const other = newUser()
      const foreign = await createCategory(t, app, other)
      for (const categoryId of [foreign.id, '00000000-0000-4000-8000-000000000000']) {
        const response = await inject(t, app, { method: 'POST', url: TASKS, headers: user.headers, payload: { title: 'x', category_id: categoryId } })
        t.equal(response.statusCode, 422)
        t.same(response.json().errors, [{ pointer: '/category_id', detail: 'is not one of your categories' }])
      }
    })
  })

  t.test('getTask', async (t) => {
    const user = newUser()
    const task = await createTask(t, app, user)
    const url = `${TASKS}/${task.id as string}`

    t.test('answers 200 with the ETag', async (t) => {
      const response = await inject(t, app, { method: 'GET', url, headers: user.headers })
      t.same(response.json(), task)
      t.equal(response.headers.etag, '"1"')
    })

    t.test('answers 304 with no body when If-None-Match matches', async (t) => {
      for (const header of ['"1"', 'W/"1"', '"9", "1"', '*']) {
        const response = await inject(t, app, { method: 'GET', url, headers: { ...user.headers, 'if-none-match': header } })
        t.equal(response.statusCode, 304, header)
        t.equal(response.body, '')
        t.equal(response.headers.etag, '"1"')
      }
      const changed = await inject(t, app, { method: 'GET', url, headers: { ...user.headers, 'if-none-match': '"2"' } })
      t.equal(changed.statusCode, 200)
    })

    t.test('answers 404 for a task of another user, and for one that never existed', async (t) => {
      for (const [headers, path] of [[newUser().headers, url], [user.headers, `${TASKS}/00000000-0000-4000-8000-000000000000`]] as const) {
        const response = await inject(t, app, { method: 'GET', url: path, headers })
        t.equal(response.statusCode, 404)
      }
    })
  })

  t.test('replaceTask', async (t) => {
    t.test('writes every field, resetting omitted ones to defaults', async (t) => {
      const user = newUser()
      const category = await createCategory(t, app, user)
      const task = await createTask(t, app, user, { title: 'Full', description: 'd', priority: 'high', due_at: '2026-01-01T00:00:00Z', category_id: category.id, tags: ['a'], completed: true })
      const response = await inject(t, app, { method: 'PUT', url: `${TASKS}/${task.id as string}`, headers: user.headers, payload: { title: 'Bare' } })
      t.equal(response.statusCode, 200)
      t.match(response.json(), { title: 'Bare', description: null, priority: 'medium', due_at: null, category_id: null, tags: [], completed: false, completed_at: null, version: 2 })
      t.equal(response.headers.etag, '"2"')
    })

    t.test('leaves the version when nothing changes', async (t) => {
      const user = newUser()
      const task = await createTask(t, app, user, { title: 'Same', tags: ['x'] })
      const response = await inject(t, app, { method: 'PUT', url: `${TASKS}/${task.id as string}`, headers: user.headers, payload: { title: ' Same ', tags: ['X'] } })
      t.equal(response.json().version, 1)
      t.equal(response.json().updated_at, task.updated_at)
    })

    t.test('needs a title', async (t) => {
      const user = newUser()
      const task = await createTask(t, app, user)
      const response = await inject(t, app, { method: 'PUT', url: `${TASKS}/${task.id as string}`, headers: user.headers, payload: { priority: 'low' } })
      t.equal(response.statusCode, 400)
    })
  })

  t.test('updateTask (merge patch)', async (t) => {
    const user = newUser()
    const category = await createCategory(t, app, user)

    t.test('changes only the given fields; null clears nullable ones', async (t) => {
      const task = await createTask(t, app, user, { title: 'Patch me', description: 'keep', due_at: '2026-02-01T00:00:00Z', category_id: category.id, tags: ['a'] })
      const url = `${TASKS}/${task.id as string}`
      const response = await inject(t, app, {
        method: 'PATCH', url, headers: { ...user.headers, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ priority: 'low', due_at: null, category_id: null })
      })
      t.equal(response.statusCode, 200)
      t.match(response.json(), { title: 'Patch me', description: 'keep', priority: 'low', due_at: null, category_id: null, tags: ['a'], version: 2 })
    })

    t.test('an empty patch changes nothing and keeps the version', async (t) => {
      const task = await createTask(t, app, user)
      const response = await inject(t, app, { method: 'PATCH', url: `${TASKS}/${task.id as string}`, headers: user.headers, payload: {} })
      t.same(response.json(), task)
    })

    t.test('refuses null for fields that cannot be null', async (t) => {
      const task = await createTask(t, app, user)
      for (const field of ['title', 'priority', 'tags', 'completed']) {
        const response = await inject(t, app, { method: 'PATCH', url: `${TASKS}/${task.id as string}`, headers: user.headers, payload: { [field]: null } })
        t.equal(response.statusCode, 400, field)
      }
    })

    t.test('completing through a patch sets completed_at; reopening clears it', async (t) => {
      const task = await createTask(t, app, user)
      const url = `${TASKS}/${task.id as string}`
      const done = (await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { completed: true } })).json()
      t.ok(done.completed_at)
      const reopened = (await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { completed: false } })).json()
      t.equal(reopened.completed_at, null)
    })
  })

  t.test('toggleTaskCompletion', async (t) => {
    const user = newUser()

    t.test('toggles with no body and with {}', async (t) => {
      const task = await createTask(t, app, user)
      const url = `${TASKS}/${task.id as string}/complete`
      const first = await inject(t, app, { method: 'PATCH', url, headers: user.headers })
      t.match(first.json(), { completed: true, version: 2 })
      t.ok(first.json().completed_at)
      const second = await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: {} })
      t.match(second.json(), { completed: false, completed_at: null, version: 3 })
    })

    t.test('sets the state given, and changes nothing when it is already so', async (t) => {
      const task = await createTask(t, app, user)
      const url = `${TASKS}/${task.id as string}/complete`
      const done = (await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { completed: true } })).json()
      const again = (await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { completed: true } })).json()
      t.equal(again.version, done.version)
      t.equal(again.completed_at, done.completed_at, 'completed_at stays the first completion')
    })

    t.test('answers 404 for another user\'s task and leaves it as it was', async (t) => {
      const task = await createTask(t, app, user)
      const response = await inject(t, app, { method: 'PATCH', url: `${TASKS}/${task.id as string}/complete`, headers: newUser().headers })
      t.equal(response.statusCode, 404)
      t.same((await inject(t, app, { method: 'GET', url: `${TASKS}/${task.id as string}`, headers: user.headers })).json(), task)
    })
  })

  t.test('deleteTask', async (t) => {
    t.test('answers 204, then 404', async (t) => {
      const user = newUser()
      const task = await createTask(t, app, user)
      const url = `${TASKS}/${task.id as string}`
      t.equal((await inject(t, app, { method: 'DELETE', url, headers: user.headers })).statusCode, 204)
      t.equal((await inject(t, app, { method: 'GET', url, headers: user.headers })).statusCode, 404)
      t.equal((await inject(t, app, { method: 'DELETE', url, headers: user.headers })).statusCode, 404)
    })
  })

  t.test('deleteCategory keeps its tasks, with category_id null and a new version', async (t) => {
    const user = newUser()
    const category = await createCategory(t, app, user)
    const task = await createTask(t, app, user, { category_id: category.id })
    t.equal((await inject(t, app, { method: 'DELETE', url: `/api/me/categories/${category.id as string}`, headers: user.headers })).statusCode, 204)
    const after = (await inject(t, app, { method: 'GET', url: `${TASKS}/${task.id as string}`, headers: user.headers })).json()
    t.match(after, { category_id: null, version: 2 })
  })

  t.test('If-Match', async (t) => {
    const user = newUser()

    t.test('answers 412 with the current ETag when stale, and changes nothing', async (t) => {
      const task = await createTask(t, app, user)
      const url = `${TASKS}/${task.id as string}`
      await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { title: 'v2' } })
      for (const [method, path, payload] of [['PATCH', url, { title: 'v3' }], ['PUT', url, { title: 'v3' }], ['PATCH', `${url}/complete`, undefined], ['DELETE', url, undefined]] as const) {
        const response = await inject(t, app, { method, url: path, headers: { ...user.headers, 'if-match': '"1"' }, ...(payload === undefined ? {} : { payload }) })
        t.equal(response.statusCode, 412, `${method} ${path}`)
        t.equal(response.headers.etag, '"2"')
        t.equal(response.json().type, 'urn:todo-contract:problem:precondition-failed')
      }
      t.match((await inject(t, app, { method: 'GET', url, headers: user.headers })).json(), { title: 'v2', version: 2, completed: false })
    })

    t.test('passes with the current ETag, a list holding it, or *', async (t) => {
      const task = await createTask(t, app, user)
      const url = `${TASKS}/${task.id as string}`
      t.equal((await inject(t, app, { method: 'PATCH', url, headers: { ...user.headers, 'if-match': '"1"' }, payload: { title: 'a' } })).statusCode, 200)
      t.equal((await inject(t, app, { method: 'PATCH', url, headers: { ...user.headers, 'if-match': '"7", "2"' }, payload: { title: 'b' } })).statusCode, 200)
      t.equal((await inject(t, app, { method: 'PATCH', url, headers: { ...user.headers, 'if-match': '*' }, payload: { title: 'c' } })).statusCode, 200)
      t.equal((await inject(t, app, { method: 'PATCH', url, headers: { ...user.headers, 'if-match': 'W/"4"' }, payload: { title: 'd' } })).statusCode, 412, 'a weak tag never matches If-Match')
      t.equal((await inject(t, app, { method: 'DELETE', url, headers: { ...user.headers, 'if-match': '"4"' } })).statusCode, 204)
    })

    t.test('answers 404, not 412, for a missing task', async (t) => {
      const response = await inject(t, app, { method: 'PATCH', url: `${TASKS}/00000000-0000-4000-8000-000000000000`, headers: { ...user.headers, 'if-match': '*' }, payload: {} })
      t.equal(response.statusCode, 404)
    })

    t.test('of twenty concurrent patches with the same If-Match, exactly one wins', async (t) => {
      const task = await createTask(t, app, user)
      const url = `${TASKS}/${task.id as string}`
      const responses = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
        await app.inject({ method: 'PATCH', url, headers: { ...user.headers, 'if-match': '"1"' }, payload: { title: `writer ${i}` } })))
      const statuses = responses.map((r) => r.statusCode).sort()
      t.same(statuses, [200, ...Array(19).fill(412)])
      t.equal((await inject(t, app, { method: 'GET', url, headers: user.headers })).json().version, 2)
    })
  })
})
