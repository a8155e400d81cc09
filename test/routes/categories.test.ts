import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { bearer, newUserId, tokenFor } from '../helpers/tokens.js'

const URL = '/api/me/categories'

t.test('categories', async (t) => {
  const app = await buildTestApp(t)
  const newUser = (): { id: string, headers: Record<string, string> } => {
    const id = newUserId()
    return { id, headers: bearer(tokenFor(id)) }
  }

  t.test('createCategory', async (t) => {
    t.test('answers 201 with Location, the name trimmed', async (t) => {
      const user = newUser()
      const response = await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name: '  Work ', color: '#1E88E5' } })
      t.equal(response.statusCode, 201)
      const category = response.json()
      t.match(category, { name: 'Work', color: '#1E88E5', user_id: user.id })
      t.equal(response.headers.location, `/api/${encodeURIComponent(user.id)}/categories/${category.id as string}`)
      t.equal(category.created_at, category.updated_at)
    })

    t.test('percent-encodes the real user id in Location', async (t) => {
      const id = `auth0|${newUserId()}/x`
      const response = await inject(t, app, { method: 'POST', url: URL, headers: bearer(tokenFor(id)), payload: { name: 'Odd' } })
      t.equal(response.statusCode, 201)
      t.ok(response.headers.location?.toString().startsWith(`/api/${encodeURIComponent(id)}/categories/`))
      t.equal(response.json().color, null)
    })

    t.test('answers 409 for a name used already, case-insensitively, naming the field', async (t) => {
      const user = newUser()
      await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name: 'Home' } })
      const response = await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name: 'HOME ' } })
      t.equal(response.statusCode, 409)
      t.equal(response.json().type, 'urn:todo-contract:problem:conflict')
      t.same(response.json().errors, [{ pointer: '/name', detail: 'is already used by another of your categories' }])
    })

    t.test('lets two users use the same name', async (t) => {
      for (const user of [newUser(), newUser()]) {
        const response = await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name: 'Shared' } })
        t.equal(response.statusCode, 201)
      }
    })

    t.test('answers 400 naming each bad field', async (t) => {
      const user = newUser()
      const cases: Array<[unknown, string]> = [
        [{ name: '' }, '/name'],
        [{ name: '   ' }, '/name'],
        [{ name: 'x'.repeat(51) }, '/name'],
        [{ name: 'ok', color: 'red' }, '/color'],
        [{ name: 'ok', color: '#12345' }, '/color'],
        [{ name: 5 }, '/name'],
        [{ color: '#123456' }, '/name'],
        [{ name: 'ok', id: 'not-a-uuid' }, '/id']
      ]
      for (const [payload, pointer] of cases) {
        const response = await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: payload as object })
        t.equal(response.statusCode, 400, JSON.stringify(payload))
        t.ok(response.json().errors.some((e: { pointer?: string }) => e.pointer === pointer), `names ${pointer}`)
      }
      const list = await inject(t, app, { method: 'GET', url: URL, headers: user.headers })
      t.same(list.json().items, [], 'nothing was stored')
    })

    t.test('accepts 50 characters, counted as code points', async (t) => {
      const user = newUser()
      const response = await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name: '🎉'.repeat(50) } })
      t.equal(response.statusCode, 201)
    })
  })

  t.test('listCategories', async (t) => {
    t.test('lists only the caller\'s categories, ordered by name case-insensitively', async (t) => {
      const user = newUser()
      const other = newUser()
      for (const name of ['banana', 'Apple', 'cherry']) {
        await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name } })
      }
      await inject(t, app, { method: 'POST', url: URL, headers: other.headers, payload: { name: 'Avocado' } })
      const response = await inject(t, app, { method: 'GET', url: URL, headers: user.headers })
      t.equal(response.statusCode, 200)
      t.same(response.json().items.map((c: { name: string }) => c.name), ['Apple', 'banana', 'cherry'])
    })
  })

  t.test('getCategory / updateCategory / deleteCategory', async (t) => {
    const user = newUser()
    const other = newUser()
    const created = (await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name: 'Errands', color: '#000000' } })).json()
    const mine = `${URL}/${created.id as string}`

    t.test('getCategory answers 200, and 404 for another user\'s id', async (t) => {
      const response = await inject(t, app, { method: 'GET', url: mine, headers: user.headers })
      t.same(response.json(), created)
      const foreign = await inject(t, app, { method: 'GET', url: mine, headers: other.headers })
      t.equal(foreign.statusCode, 404)
      t.equal(foreign.json().type, 'urn:todo-contract:problem:not-found')
    })

    t.test('updateCategory changes only the given fields; null removes the colour', async (t) => {
      const renamed = await inject(t, app, { method: 'PATCH', url: mine, headers: { ...user.headers, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ name: 'Chores' }) })
      t.equal(renamed.statusCode, 200)
      t.match(renamed.json(), { name: 'Chores', color: '#000000' })
      const cleared = await inject(t, app, { method: 'PATCH', url: mine, headers: user.headers, payload: { color: null } })
      t.match(cleared.json(), { name: 'Chores', color: null })
    })

    t.test('updateCategory with no change leaves updated_at', async (t) => {
      const before = (await inject(t, app, { method: 'GET', url: mine, headers: user.headers })).json()
      const after = (await inject(t, app, { method: 'PATCH', url: mine, headers: user.headers, payload: { name: before.name } })).json()
      t.equal(after.updated_at, before.updated_at)
    })

    t.test('updateCategory answers 409 on a name taken by another of the user\'s categories', async (t) => {
      await inject(t, app, { method: 'POST', url: URL, headers: user.headers, payload: { name: 'Garden' } })
      const response = await inject(t, app, { method: 'PATCH', url: mine, headers: user.headers, payload: { name: 'garden' } })
      t.equal(response.statusCode, 409)
    })

    t.test('another user cannot update or delete it, and it stays as it was', async (t) => {
      const before = (await inject(t, app, { method: 'GET', url: mine, headers: user.headers })).json()
      const patch = await inject(t, app, { method: 'PATCH', url: mine, headers: other.headers, payload: { name: 'Hacked' } })
      t.equal(patch.statusCode, 404)
      const del = await inject(t, app, { method: 'DELETE', url: mine, headers: other.headers })
      t.equal(del.statusCode, 404)
      const after = (await inject(t, app, { method: 'GET', url: mine, headers: user.headers })).json()
      t.same(after, before)
    })

    t.test('deleteCategory answers 204, then 404', async (t) => {
      const response = await inject(t, app, { method: 'DELETE', url: mine, headers: user.headers })
      t.equal(response.statusCode, 204)
      t.equal(response.body, '')
      const again = await inject(t, app, { method: 'DELETE', url: mine, headers: user.headers })
      t.equal(again.statusCode, 404)
    })
  })
})
