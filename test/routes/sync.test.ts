/**
 * Incremental sync (API.md part two, "Incremental sync"): full and incremental, paged, each
 * change once in its latest state, tombstones for purges and category deletions, tokens bound
 * to their user and expiring.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { createCategory, createTask, newUser, type TestUser } from '../helpers/factories.js'

interface SyncPage {
  tasks: Array<Record<string, any>>
  categories: Array<Record<string, any>>
  deleted: { tasks: string[], categories: string[] }
  next_token: string
  has_more: boolean
}

async function syncPage (t: Test, app: FastifyInstance, user: TestUser, query: { since?: string, limit?: number } = {}): Promise<SyncPage> {
  const search = new URLSearchParams()
  if (query.since !== undefined) search.set('since', query.since)
  if (query.limit !== undefined) search.set('limit', String(query.limit))
  const response = await inject(t, app, { method: 'GET', url: `/api/me/sync?${search.toString()}`, headers: user.headers })
  t.equal(response.statusCode, 200, 'sync answers 200')
  return response.json()
}

/** Follows next_token while has_more; every page, in order. */
async function syncToEnd (t: Test, app: FastifyInstance, user: TestUser, since?: string, limit?: number): Promise<{ pages: SyncPage[], token: string }> {
  const pages: SyncPage[] = []
  let token = since
  for (;;) {
    const page = await syncPage(t, app, user, { ...(token === undefined ? {} : { since: token }), ...(limit === undefined ? {} : { limit }) })
    pages.push(page)
    token = page.next_token
    if (!page.has_more) return { pages, token }
  }
}

const ids = (rows: Array<Record<string, any>>): string[] => rows.map((row) => row.id as string).sort()

t.test('syncChanges', async (t) => {
  const app = await buildTestApp(t)
  const send = async (t: Test, user: TestUser, method: string, url: string, payload?: object): Promise<number> =>
    (await inject(t, app, { method, url, headers: user.headers, ...(payload === undefined ? {} : { payload }) })).statusCode

  t.test('a full sync of a new user is empty, and its token continues from there', async (t) => {
    const user = newUser()
    const page = await syncPage(t, app, user)
    t.same({ ...page, next_token: undefined }, { tasks: [], categories: [], deleted: { tasks: [], categories: [] }, next_token: undefined, has_more: false })
    const task = await createTask(t, app, user, { title: 'first' })
    const next = await syncPage(t, app, user, { since: page.next_token })
    t.same(ids(next.tasks), [task.id], 'the change after the token')
  })

  t.test('a full sync holds every task, the trash included, and every category, with no deletions', async (t) => {
    const user = newUser()
    const category = await createCategory(t, app, user, 'Home')
    const kept = await createTask(t, app, user, { title: 'kept', category_id: category.id })
    const trashed = await createTask(t, app, user, { title: 'trashed' })
    const purged = await createTask(t, app, user, { title: 'purged' })
    t.equal(await send(t, user, 'DELETE', `/api/me/tasks/${trashed.id as string}`), 204)
    t.equal(await send(t, user, 'DELETE', `/api/me/tasks/${purged.id as string}`), 204)
    t.equal(await send(t, user, 'DELETE', `/api/me/trash/${purged.id as string}`), 204)
    const page = await syncPage(t, app, user)
    t.same(ids(page.tasks), [kept.id, trashed.id].sort())
    t.ok(page.tasks.find((task) => task.id === trashed.id)?.deleted_at, 'a trashed task carries deleted_at')
    t.same(page.tasks.find((task) => task.id === kept.id), kept, 'in the same shape as getTask')
    t.same(page.categories, [category])
    t.same(page.deleted, { tasks: [], categories: [] }, 'a full sync reports no deletions')
    t.equal(page.has_more, false)
  })

  t.test('an incremental sync holds each changed entity once, in its latest state, and what went for good', async (t) => {
    const user = newUser()
    const doomedCategory = await createCategory(t, app, user, 'Doomed')
    const untouched = await createTask(t, app, user, { title: 'untouched' })
    const edited = await createTask(t, app, user, { title: 'v1' })
    const filed = await createTask(t, app, user, { title: 'filed', category_id: doomedCategory.id })
    const doomed = await createTask(t, app, user, { title: 'doomed' })
    const { token } = await syncToEnd(t, app, user)

    for (const title of ['v2', 'v3', 'v4']) t.equal(await send(t, user, 'PATCH', `/api/me/tasks/${edited.id as string}`, { title }), 200)
    t.equal(await send(t, user, 'PATCH', `/api/me/tasks/${untouched.id as string}`, { title: 'untouched' }), 200, 'a PATCH that changes nothing')
    const created = await createTask(t, app, user, { title: 'new' })
    t.equal(await send(t, user, 'DELETE', `/api/me/categories/${doomedCategory.id as string}`), 204)
    t.equal(await send(t, user, 'DELETE', `/api/me/tasks/${doomed.id as string}`), 204)
    t.equal(await send(t, user, 'DELETE', `/api/me/trash/${doomed.id as string}`), 204)

    const page = await syncPage(t, app, user, { since: token })
    t.same(ids(page.tasks), [edited.id, filed.id, created.id].sort(), 'no unchanged task, each changed one once')
    t.match(page.tasks.find((task) => task.id === edited.id), { title: 'v4', version: 4 }, 'the latest state')
    t.match(page.tasks.find((task) => task.id === filed.id), { category_id: null, version: 2 }, 'its category deleted: a change of the task')
    t.same(page.categories, [])
    t.same(page.deleted, { tasks: [doomed.id], categories: [doomedCategory.id] })
    t.equal(page.has_more, false)

    const again = await syncPage(t, app, user, { since: page.next_token })
    t.same({ ...again, next_token: undefined }, { tasks: [], categories: [], deleted: { tasks: [], categories: [] }, next_token: undefined, has_more: false }, 'nothing twice')
  })

  t.test('an id purged and created again is reported once, as it is now', async (t) => {
    const user = newUser()
    const id = randomUUID()
    await createTask(t, app, user, { id, title: 'first life' })
    const { token } = await syncToEnd(t, app, user)
    t.equal(await send(t, user, 'DELETE', `/api/me/tasks/${id}`), 204)
    t.equal(await send(t, user, 'DELETE', `/api/me/trash/${id}`), 204)
    await createTask(t, app, user, { id, title: 'second life' })
    const page = await syncPage(t, app, user, { since: token })
    t.same(page.tasks.map((task) => task.title), ['second life'])
    t.same(page.deleted.tasks, [], 'not also deleted')
  })

  t.test('pages follow change order: limit caps tasks plus categories, and nothing is skipped or repeated', async (t) => {
    const user = newUser()
    const made: string[] = []
    for (let i = 0; i < 4; i++) made.push((await createTask(t, app, user, { title: `task ${i}` })).id)
    for (let i = 0; i < 3; i++) made.push((await createCategory(t, app, user, `category ${i}`)).id)
    const { pages } = await syncToEnd(t, app, user, undefined, 3)
    t.same(pages.map((page) => page.tasks.length + page.categories.length), [3, 3, 1])
    t.same(pages.map((page) => page.has_more), [true, true, false])
    const seen = pages.flatMap((page) => [...page.tasks, ...page.categories].map((row) => row.id as string))
    t.same(seen, made, 'in the order of the changes')
  })

  t.test('a page with many deletions carries them all up to its bound', async (t) => {
    const user = newUser()
    const tasks = []
    for (let i = 0; i < 5; i++) tasks.push(await createTask(t, app, user, { title: `t${i}` }))
    const { token } = await syncToEnd(t, app, user)
    for (const task of tasks) {
      t.equal(await send(t, user, 'DELETE', `/api/me/tasks/${task.id as string}`), 204)
      t.equal(await send(t, user, 'DELETE', `/api/me/trash/${task.id as string}`), 204)
    }
    const { pages } = await syncToEnd(t, app, user, token, 1)
    t.same(pages.flatMap((page) => page.deleted.tasks).sort(), ids(tasks), 'every purge reported')
    t.same(pages.flatMap((page) => page.tasks), [], 'the trashed states are superseded by the purges')
  })

  t.test('a client sees its own writes at once', async (t) => {
    const user = newUser()
    const { token } = await syncToEnd(t, app, user)
    const task = await createTask(t, app, user)
    t.same(ids((await syncPage(t, app, user, { since: token })).tasks), [task.id])
  })

  t.test('tokens are bound to their user and cannot be forged', async (t) => {
    const alice = newUser()
    const bob = newUser()
    await createTask(t, app, alice)
    const { token } = await syncToEnd(t, app, alice)
    const listCursor = (await inject(t, app, { method: 'GET', url: '/api/me/tasks?limit=1', headers: alice.headers })).json().next_cursor
    await createTask(t, app, alice)
    const listPage = (await inject(t, app, { method: 'GET', url: '/api/me/tasks?limit=1', headers: alice.headers })).json().next_cursor as string
    for (const [label, user, since] of [
      ['another user\'s token', bob, token],
      ['a tampered token', alice, token.slice(0, -2) + (token.endsWith('A') ? 'BB' : 'AA')],
      ['garbage', alice, 'not-a-token'],
      ['a list cursor', alice, listPage ?? listCursor]
    ] as const) {
      const response = await inject(t, app, { method: 'GET', url: `/api/me/sync?since=${encodeURIComponent(since)}`, headers: user.headers })
      t.equal(response.statusCode, 400, `${label}: 400`)
      t.match(response.json(), { type: 'urn:todo-contract:problem:invalid-cursor', errors: [{ parameter: 'since' }] })
    }
    const empty = await inject(t, app, { method: 'GET', url: '/api/me/sync?since=', headers: alice.headers })
    t.equal(empty.statusCode, 200, 'an empty since is a full sync')
    t.equal(empty.json().tasks.length, 2)
  })

  t.test('limit is 1..1000', async (t) => {
    const user = newUser()
    for (const limit of ['0', '1001', 'x']) {
      const response = await inject(t, app, { method: 'GET', url: `/api/me/sync?limit=${limit}`, headers: user.headers })
      t.equal(response.statusCode, 400, `limit=${limit}`)
    }
  })

  t.test('another user\'s path is 403', async (t) => {
    const user = newUser()
    t.equal(await send(t, user, 'GET', `/api/${encodeURIComponent(newUser().id)}/sync`), 403)
  })
})

t.test('a token older than SYNC_RETENTION_DAYS is 410 sync-token-expired', async (t) => {
  // 0.00002 days: 1.7 seconds.
  const app = await buildTestApp(t, { env: { SYNC_RETENTION_DAYS: '0.00002' } })
  const user = newUser()
  const { next_token: token } = await syncPage(t, app, user)
  t.equal((await inject(t, app, { method: 'GET', url: `/api/me/sync?since=${encodeURIComponent(token)}`, headers: user.headers })).statusCode, 200, 'valid at first')
  await sleep(2_000)
  const response = await inject(t, app, { method: 'GET', url: `/api/me/sync?since=${encodeURIComponent(token)}`, headers: user.headers })
  t.equal(response.statusCode, 410)
  t.match(response.json(), { type: 'urn:todo-contract:problem:sync-token-expired', errors: [{ parameter: 'since' }] })
  t.equal((await inject(t, app, { method: 'GET', url: '/api/me/sync', headers: user.headers })).statusCode, 200, 'a full sync still works')
})
