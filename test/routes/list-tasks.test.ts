/** listTasks: filters, sorts, keyset paging and cursors (API.md "Listing tasks"). */
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { createCategory, createTask, newUser, type TestUser } from '../helpers/factories.js'

type Task = Record<string, any>

async function list (t: Test, app: FastifyInstance, user: TestUser, query: string): Promise<{ items: Task[], next_cursor: string | null, status: number, body: any }> {
  const response = await inject(t, app, { method: 'GET', url: `/api/me/tasks?${query}`, headers: user.headers })
  const body = response.json()
  return { ...body, status: response.statusCode, body }
}

async function listAll (t: Test, app: FastifyInstance, user: TestUser, query: string, limit = 3): Promise<Task[]> {
  const seen: Task[] = []
  let cursor: string | null = null
  do {
    const page = await list(t, app, user, `${query}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    t.equal(page.status, 200)
    seen.push(...page.items)
    cursor = page.next_cursor
  } while (cursor !== null)
  return seen
}

const PRIORITY = { low: 0, medium: 1, high: 2 } as const
const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0)

t.test('listTasks', async (t) => {
  const app = await buildTestApp(t)
  const user = newUser()
  const work = await createCategory(t, app, user, 'Work')
  const specs: Task[] = [
    { title: 'Buy milk and eggs', tags: ['Errands'], priority: 'high', due_at: '2026-03-01T10:00:00Z' },
    { title: 'Milkshake recipe', description: 'vanilla', tags: ['food'], priority: 'low' },
    { title: 'call Bob', description: 'remember the MILK', category_id: work.id, priority: 'medium', due_at: '2026-02-01T10:00:00Z', completed: true },
    { title: 'apple pie', tags: ['food', 'errands'], category_id: work.id, priority: 'high' },
    { title: 'Éclair', priority: 'low', due_at: '2026-03-01T10:00:00Z' },
    { title: 'banana', priority: 'medium', due_at: '2026-01-15T00:00:00Z', completed: true },
    { title: 'Apple', priority: 'high', due_at: '2026-04-01T00:00:00Z' }
  ]
  const created: Task[] = []
  for (const spec of specs) created.push(await createTask(t, app, user, spec))
  // A second user's tasks must never show up.
  const other = newUser()
  await createTask(t, app, other, { title: 'milk for the other user', tags: ['errands'] })
  const byTitle = (tasks: Task[]): string[] => tasks.map((task) => task.title as string).sort()

  t.test('lists the caller\'s tasks, newest first by default, 50 a page', async (t) => {
    const page = await list(t, app, user, '')
    t.equal(page.items.length, created.length)
    t.equal(page.next_cursor, null)
    t.same(page.items.map((task) => task.id), [...created].reverse().map((task) => task.id))
  })

  t.test('filters', async (t) => {
    const cases: Array<[string, string[]]> = [
      ['status=pending', ['Apple', 'Buy milk and eggs', 'Milkshake recipe', 'apple pie', 'Éclair']],
      ['status=completed', ['banana', 'call Bob']],
      ['status=all', byTitle(created)],
      ['priority=high', ['Apple', 'Buy milk and eggs', 'apple pie']],
      [`category_id=${work.id as string}`, ['apple pie', 'call Bob']],
      ['tag=ERRANDS', ['Buy milk and eggs', 'apple pie']],
      ['tag=food&priority=low', ['Milkshake recipe']],
      ['due_after=2026-02-01T10:00:00Z', ['Apple', 'Buy milk and eggs', 'call Bob', 'Éclair']],
      ['due_before=2026-03-01T10:00:00Z', ['banana', 'call Bob']],
      ['due_after=2026-02-01T00:00:00Z&due_before=2026-03-01T10:00:00.001Z&status=pending', ['Buy milk and eggs', 'Éclair']],
      ['q=milk', ['Buy milk and eggs', 'call Bob']],
      ['q=MILK%20eggs', ['Buy milk and eggs']],
      ['q=vanilla%20milkshake', ['Milkshake recipe']],
      ['q=eggs%20bob', []]
    ]
    for (const [query, titles] of cases) {
      const page = await list(t, app, user, query)
      t.same(byTitle(page.items), [...titles].sort(), query)
    }
  })

  t.test('a category that is not the caller\'s matches nothing', async (t) => {
    const foreign = await createCategory(t, app, other)
    t.same((await list(t, app, user, `category_id=${foreign.id as string}`)).items, [])
  })

  t.test('search treats punctuation and operators as text, never as syntax', async (t) => {
    for (const q of ['a & b | !(c) <-> d:*', "'", '\\', 'milk:*', '!!!', '(((', 'milk & !eggs']) {
      const page = await list(t, app, user, `q=${encodeURIComponent(q)}`)
      t.equal(page.status, 200, q)
    }
    t.same(byTitle((await list(t, app, user, `q=${encodeURIComponent('milk & !eggs')}`)).items), ['Buy milk and eggs'], 'words ANDed, operators ignored')
  })

  t.test('sorts', async (t) => {
    const key: Record<string, (task: Task, order: 'asc' | 'desc') => string | number> = {
      created_at: (task) => task.created_at,
      updated_at: (task) => task.updated_at,
      priority: (task) => PRIORITY[task.priority as keyof typeof PRIORITY],
      title: (task) => (task.title as string).toLowerCase(),
      due_at: (task, order) => task.due_at ?? (order === 'asc' ? '\uffff' : '')
    }
    for (const sort of Object.keys(key)) {
      for (const order of ['asc', 'desc'] as const) {
        const expected = [...created].sort((a, b) => {
          const byKey = cmp(key[sort]!(a, order), key[sort]!(b, order)) || cmp(a.id, b.id)
          return order === 'asc' ? byKey : -byKey
        })
        const paged = await listAll(t, app, user, `sort=${sort}&order=${order}`, 2)
        t.same(paged.map((task) => task.title), expected.map((task) => task.title), `sort=${sort}&order=${order}, paged 2 at a time`)
      }
    }
  })

  t.test('priority desc is high first; tasks without due_at come last in both orders', async (t) => {
    t.same((await list(t, app, user, 'sort=priority')).items.slice(0, 3).map((task) => task.priority), ['high', 'high', 'high'])
    for (const order of ['asc', 'desc']) {
      const items = (await list(t, app, user, `sort=due_at&order=${order}`)).items
      t.same(items.slice(-2).map((task) => task.due_at), [null, null], order)
    }
  })

  t.test('limit bounds the page; 0 and 101 are refused', async (t) => {
    t.equal((await list(t, app, user, 'limit=1')).items.length, 1)
    for (const limit of ['0', '101', 'x', '-1']) {
      const page = await list(t, app, user, `limit=${limit}`)
      t.equal(page.status, 400, limit)
      t.same(page.body.errors.map((e: { parameter: string }) => e.parameter), ['limit'])
    }
  })

  t.test('refuses bad enums and dates naming the parameter', async (t) => {
    for (const query of ['status=done', 'sort=random', 'order=up', 'priority=urgent', 'due_after=yesterday', 'category_id=x', 'q=', `q=${'x'.repeat(201)}`]) {
      const page = await list(t, app, user, query)
      t.equal(page.status, 400, query)
      t.equal(page.body.errors[0].parameter, query.split('=')[0])
    }
  })

  t.test('cursors', async (t) => {
    const first = await list(t, app, user, 'limit=2&sort=title')
    const cursor = first.next_cursor as string
    t.type(cursor, 'string')

    t.test('work with another page size', async (t) => {
      t.equal((await list(t, app, user, `limit=3&sort=title&cursor=${encodeURIComponent(cursor)}`)).status, 200)
    })

    t.test('answer 400 invalid-cursor when tampered with', async (t) => {
      const [payload, signature] = cursor.split('.') as [string, string]
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString())
      const forged = Buffer.from(JSON.stringify({ ...decoded, k: 'a' })).toString('base64url') + '.' + signature
      for (const bad of [forged, cursor.slice(0, -2), 'garbage', `${cursor}.x`]) {
        const page = await list(t, app, user, `limit=2&sort=title&cursor=${encodeURIComponent(bad)}`)
        t.equal(page.status, 400)
        t.equal(page.body.type, 'urn:todo-contract:problem:invalid-cursor')
      }
    })

    t.test('answer 400 when issued for other filters, sort or order', async (t) => {
      for (const query of ['sort=created_at', 'sort=title&order=asc', 'sort=title&status=pending', 'sort=title&q=milk', 'sort=title&tag=food']) {
        const page = await list(t, app, user, `${query}&cursor=${encodeURIComponent(cursor)}`)
        t.equal(page.status, 400, query)
        t.equal(page.body.type, 'urn:todo-contract:problem:invalid-cursor')
      }
    })

    t.test('answer 400 for another user\'s cursor', async (t) => {
      const page = await list(t, app, other, `limit=2&sort=title&cursor=${encodeURIComponent(cursor)}`)
      t.equal(page.status, 400)
    })
  })

  t.test('paging visits every task exactly once while tasks come and go', async (t) => {
    const pager = newUser()
    const initial: Task[] = []
    for (let i = 0; i < 20; i++) initial.push(await createTask(t, app, pager, { title: `task ${i}`, priority: (['low', 'medium', 'high'] as const)[i % 3] }))
    for (const sort of ['created_at', 'priority', 'title']) {
      const seen: string[] = []
      const removed = new Set<string>()
      let cursor: string | null = null
      let round = 0
      do {
        const page = await list(t, app, pager, `sort=${sort}&limit=4${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
        seen.push(...page.items.map((task) => task.id as string))
        cursor = page.next_cursor
        // Between pages: add a task, and delete one not seen yet.
        await createTask(t, app, pager, { title: `added ${sort} ${round++}` })
        const victim = initial.find((task) => !seen.includes(task.id) && !removed.has(task.id))
        if (victim !== undefined && round % 2 === 0) {
          await inject(t, app, { method: 'DELETE', url: `/api/me/tasks/${victim.id as string}`, headers: pager.headers })
          removed.add(victim.id)
        }
      } while (cursor !== null)
      t.equal(new Set(seen).size, seen.length, `${sort}: no task twice`)
      const expected = initial.filter((task) => !removed.has(task.id)).map((task) => task.id)
      t.same(expected.filter((id) => !seen.includes(id)), [], `${sort}: every surviving task seen`)
      // Put the deleted ones back out of the picture for the next sort.
      for (const id of removed) initial.splice(initial.findIndex((task) => task.id === id), 1)
    }
  })
})

t.test('query values with NUL or a lone surrogate are 400, not a database error', async (t) => {
  const app = await buildTestApp(t)
  const user = newUser()
  for (const query of ['q=%00', 'tag=a%00b', 'cursor=%00']) {
    const response = await inject(t, app, { method: 'GET', url: `/api/me/tasks?${query}`, headers: user.headers })
    t.equal(response.statusCode, 400, query)
  }
})
