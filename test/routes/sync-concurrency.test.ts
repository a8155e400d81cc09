/**
 * The hard promise of sync (API.md, "Incremental sync"): a client that keeps syncing while
 * other requests write concurrently never misses a change and never sees one twice, because
 * commit order decides, not the clock. Writers run in parallel on their own connections (a
 * pool of 8), with single-row and multi-row writes (clear-completed, category deletion,
 * purges); a client syncs in small pages the whole time. At the end, the state the client
 * built from what it saw must equal the state the listings show, and no task version may
 * have reached it twice or out of order.
 * SYNC_RACE_ROUNDS sets how many rounds run (default 2; the issue's bar is 20 in a row).
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { openDatabase } from '../../src/database/create.js'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedUrl } from '../helpers/database.js'
import { newUser, type TestUser } from '../helpers/factories.js'

const ROUNDS = Number(process.env.SYNC_RACE_ROUNDS ?? 2)
const WRITERS = 6
const OPERATIONS_PER_WRITER = 40

type Row = Record<string, any> & { id: string }

/** Server errors seen by any request (a deadlock between writers would show here). */
const faults: string[] = []

async function call (app: FastifyInstance, user: TestUser, method: string, url: string, payload?: unknown): Promise<{ status: number, body: any }> {
  const response = await app.inject({ method: method as 'GET', url, headers: user.headers, ...(payload === undefined ? {} : { payload: payload as object }) })
  if (response.statusCode >= 500) faults.push(`${method} ${url}: ${response.statusCode} ${response.body}`)
  return { status: response.statusCode, body: response.body === '' ? null : response.json() }
}

/** Everything the user has, through the listings (not through sync). */
async function listedState (app: FastifyInstance, user: TestUser): Promise<{ tasks: Map<string, Row>, categories: Map<string, Row> }> {
  const tasks = new Map<string, Row>()
  for (const path of ['/api/me/tasks?status=all', '/api/me/trash?']) {
    let cursor: string | null = null
    do {
      const { body }: { body: { items: Row[], next_cursor: string | null } } = await call(app, user, 'GET', `${path}&limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      for (const task of body.items) tasks.set(task.id, task)
      cursor = body.next_cursor
    } while (cursor !== null)
  }
  const categories = new Map<string, Row>(((await call(app, user, 'GET', '/api/me/categories')).body.items as Row[]).map((c) => [c.id, c]))
  return { tasks, categories }
}

async function writer (app: FastifyInstance, user: TestUser, known: { tasks: string[], categories: string[] }, random: () => number): Promise<void> {
  const pick = (list: string[]): string | undefined => list[Math.floor(random() * list.length)]
  for (let i = 0; i < OPERATIONS_PER_WRITER; i++) {
    const task = pick(known.tasks)
    const category = pick(known.categories)
    const roll = random()
    if (roll < 0.2 || task === undefined) {
      const id = randomUUID()
      known.tasks.push(id)
      await call(app, user, 'POST', '/api/me/tasks', { id, title: `task ${i}`, ...(category !== undefined && random() < 0.5 ? { category_id: category } : {}) })
    } else if (roll < 0.45) {
      await call(app, user, 'PATCH', `/api/me/tasks/${task}`, { title: `edit ${i} ${random()}`, ...(category !== undefined && random() < 0.3 ? { category_id: category } : {}) })
    } else if (roll < 0.6) {
      await call(app, user, 'PATCH', `/api/me/tasks/${task}/complete`)
    } else if (roll < 0.7) {
      await call(app, user, 'DELETE', `/api/me/tasks/${task}`)
    } else if (roll < 0.77) {
      await call(app, user, 'POST', `/api/me/tasks/${task}/restore`)
    } else if (roll < 0.83) {
      await call(app, user, 'DELETE', `/api/me/tasks/${task}`)
      await call(app, user, 'DELETE', `/api/me/trash/${task}`)
    } else if (roll < 0.87) {
      await call(app, user, 'POST', '/api/me/tasks/clear-completed')
    } else if (roll < 0.93 || category === undefined) {
      const { status, body } = await call(app, user, 'POST', '/api/me/categories', { name: `c ${randomUUID()}` })
      if (status === 201) known.categories.push(body.id)
    } else if (roll < 0.97) {
      await call(app, user, 'PATCH', `/api/me/categories/${category}`, { color: random() < 0.5 ? '#112233' : null })
    } else {
      await call(app, user, 'DELETE', `/api/me/categories/${category}`)
    }
  }
}

/** A small seeded generator, so a failing round can be told apart by its seed. */
function seeded (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

t.test('a client syncing while parallel writers commit misses nothing and sees nothing twice', async (t) => {
  const database = openDatabase({ url: sharedUrl(), poolMax: 8, role: SERVICE_ROLE })
  t.teardown(async () => { await database.destroy() })
  const app = await buildTestApp(t, { database, env: { RATE_LIMIT_PER_MINUTE: '0' } })

  for (let round = 0; round < ROUNDS; round++) {
    const seed = Date.now() + round
    await t.test(`round ${round + 1} (seed ${seed})`, async (t: Test) => {
      const user = newUser()
      const random = seeded(seed)
      const known = { tasks: [] as string[], categories: [] as string[] }
      for (let i = 0; i < 5; i++) {
        const { body } = await call(app, user, 'POST', '/api/me/tasks', { title: `seed ${i}` })
        known.tasks.push(body.id)
      }

      const tasks = new Map<string, Row>()
      const categories = new Map<string, Row>()
      const versionsSeen = new Map<string, number>()
      const problems: string[] = []
      let token: string | undefined
      const syncOnce = async (): Promise<boolean> => {
        const { status, body } = await call(app, user, 'GET', `/api/me/sync?limit=7${token === undefined ? '' : `&since=${encodeURIComponent(token)}`}`)
        if (status !== 200) throw new Error(`sync answered ${status}: ${JSON.stringify(body)}`)
        for (const task of body.tasks as Row[]) {
          const before = versionsSeen.get(task.id)
          if (before !== undefined && task.version <= before) problems.push(`task ${task.id} version ${task.version as number} after ${before}`)
          versionsSeen.set(task.id, task.version)
          tasks.set(task.id, task)
        }
        for (const category of body.categories as Row[]) categories.set(category.id, category)
        for (const id of body.deleted.tasks as string[]) tasks.delete(id)
        for (const id of body.deleted.categories as string[]) categories.delete(id)
        token = body.next_token
        return body.has_more as boolean
      }

      const writers = { running: true }
      const written = Promise.all(Array.from({ length: WRITERS }, async () => { await writer(app, user, known, random) }))
        .finally(() => { writers.running = false })
      let syncs = 0
      while (writers.running) {
        await syncOnce()
        syncs++
      }
      await written
      while (await syncOnce()) syncs++

      const listed = await listedState(app, user)
      t.same(faults, [], 'no request failed (no deadlock between writers)')
      t.same(problems, [], 'no task version seen twice or out of order')
      t.same([...tasks.keys()].sort(), [...listed.tasks.keys()].sort(), 'the same tasks as the listings')
      t.same([...categories.keys()].sort(), [...listed.categories.keys()].sort(), 'the same categories')
      const stale = [...listed.tasks.values()].filter((task) => JSON.stringify(tasks.get(task.id)) !== JSON.stringify(task))
      t.same(stale.map((task) => task.id), [], 'every task in its latest state')
      const staleCategories = [...listed.categories.values()].filter((c) => JSON.stringify(categories.get(c.id)) !== JSON.stringify(c))
      t.same(staleCategories.map((c) => c.id), [], 'every category in its latest state')
      t.ok(syncs > 3, `the client synced ${syncs} times while the writers ran`)
    })
  }
})
