/** Safe retries of createTask with Idempotency-Key (API.md "Safe retries"). */
import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedDb } from '../helpers/database.js'
import { inject } from '../helpers/contract.js'
import { newUser } from '../helpers/factories.js'

const TASKS = '/api/me/tasks'

t.test('createTask with Idempotency-Key', async (t) => {
  const app = await buildTestApp(t)
  const count = async (userId: string): Promise<number> =>
    Number((await sharedDb(t).selectFrom('tasks').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n)

  t.test('a retry with the same key and body replays the original 201 and creates nothing', async (t) => {
    const user = newUser()
    const headers = { ...user.headers, 'idempotency-key': 'retry-1' }
    const first = await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'Once', tags: ['a'] } })
    t.equal(first.statusCode, 201)
    t.equal(first.headers['idempotent-replayed'], undefined)
    // The task changes afterwards; the replay is still the response as first sent.
    await inject(t, app, { method: 'PATCH', url: `${TASKS}/${first.json().id as string}`, headers: user.headers, payload: { title: 'Changed' } })
    const again = await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { tags: ['a'], title: 'Once' } })
    t.equal(again.statusCode, 201)
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.equal(again.body, first.body)
    t.equal(again.headers.location, first.headers.location)
    t.equal(again.headers.etag, first.headers.etag)
    t.equal(await count(user.id), 1)
  })

  t.test('the same key with a different body is 422', async (t) => {
    const user = newUser()
    const headers = { ...user.headers, 'idempotency-key': 'retry-2' }
    await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'One' } })
    const response = await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'Two' } })
    t.equal(response.statusCode, 422)
    t.equal(response.json().type, 'urn:todo-contract:problem:idempotency-key-reused')
    t.equal(await count(user.id), 1)
  })

  t.test('keys belong to their user', async (t) => {
    const alice = newUser()
    const bob = newUser()
    const a = await inject(t, app, { method: 'POST', url: TASKS, headers: { ...alice.headers, 'idempotency-key': 'same' }, payload: { title: 'A' } })
    const b = await inject(t, app, { method: 'POST', url: TASKS, headers: { ...bob.headers, 'idempotency-key': 'same' }, payload: { title: 'B' } })
    t.equal(b.statusCode, 201)
    t.equal(b.headers['idempotent-replayed'], undefined)
    t.not(b.json().id, a.json().id)
  })

  t.test('concurrent requests with one key create one task', async (t) => {
    const user = newUser()
    const headers = { ...user.headers, 'idempotency-key': 'burst' }
    const responses = await Promise.all(Array.from({ length: 10 }, async () =>
      await app.inject({ method: 'POST', url: TASKS, headers, payload: { title: 'Burst' } })))
    const statuses = responses.map((r) => r.statusCode)
    t.ok(statuses.every((s) => s === 201 || s === 409), `only 201 and 409: ${statuses.join(',')}`)
    t.ok(statuses.includes(201), 'one of them created the task')
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      t.equal(response.json().type, 'urn:todo-contract:problem:idempotency-in-progress')
      t.ok(response.headers['retry-after'])
    }
    t.equal(new Set(responses.filter((r) => r.statusCode === 201).map((r) => r.json().id)).size, 1, 'every 201 is the same task')
    t.equal(await count(user.id), 1)
    const later = await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'Burst' } })
    t.equal(later.headers['idempotent-replayed'], 'true', 'afterwards, the replay')
  })

  t.test('a key older than 24 hours is forgotten', async (t) => {
    const user = newUser()
    const headers = { ...user.headers, 'idempotency-key': 'old' }
    await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'Day one' } })
    await sharedDb(t).updateTable('idempotency_keys').set({ created_at: sql<Date>`now() - interval '25 hours'` }).where('user_id', '=', user.id).execute()
    const response = await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'Day two' } })
    t.equal(response.statusCode, 201)
    t.equal(response.headers['idempotent-replayed'], undefined)
    t.equal(await count(user.id), 2)
  })

  t.test('a failed create is not remembered', async (t) => {
    const user = newUser()
    const headers = { ...user.headers, 'idempotency-key': 'fails' }
    const failed = await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'x', category_id: '00000000-0000-4000-8000-000000000000' } })
    t.equal(failed.statusCode, 422)
    const retried = await inject(t, app, { method: 'POST', url: TASKS, headers, payload: { title: 'x' } })
    t.equal(retried.statusCode, 201)
  })

  t.test('the key is 1..255 characters', async (t) => {
    const user = newUser()
    const response = await inject(t, app, { method: 'POST', url: TASKS, headers: { ...user.headers, 'idempotency-key': 'k'.repeat(256) }, payload: { title: 'x' } })
    t.equal(response.statusCode, 400)
    t.same(response.json().errors.map((e: { header: string }) => e.header), ['idempotency-key'])
  })
})
