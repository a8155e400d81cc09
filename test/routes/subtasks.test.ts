/**
 * API.md part two, "Subtasks and manual order": parent_id (the caller's live tasks only, no
 * cycle, at most 4 levels), completion of descendants, the parent_id filter, positions
 * (new tasks last, moveTask, sort=position, renumbering), the trash of whole subtrees, and
 * concurrent moves that neither fail because of each other nor share a position.
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { sharedOwnerDatabase } from '../helpers/database.js'
import { createTask, newUser, type TestUser } from '../helpers/factories.js'

const app = await buildTestApp(t)

type Task = Record<string, any>

async function send (t: Test, user: TestUser, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<{ statusCode: number, json: () => any, headers: Record<string, unknown> }> {
  const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
  return await inject(t, app, {
    method,
    url,
    headers: { ...user.headers, ...headers, ...(payload === undefined ? {} : { 'content-type': contentType }) },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
  })
}

const move = async (t: Test, user: TestUser, task: Task, parentId: string | null, afterId: string | null, headers: Record<string, string> = {}): ReturnType<typeof send> =>
  await send(t, user, 'POST', `/api/me/tasks/${task.id as string}/move`, { parent_id: parentId, after_id: afterId }, headers)

async function get (t: Test, user: TestUser, id: string): Promise<{ statusCode: number, body: Task }> {
  const response = await send(t, user, 'GET', `/api/me/tasks/${id}`)
  return { statusCode: response.statusCode, body: response.json() }
}

async function list (t: Test, user: TestUser, query: string): Promise<Task[]> {
  const response = await send(t, user, 'GET', `/api/me/tasks?${query}`)
  t.equal(response.statusCode, 200, query)
  return response.json().items
}

const titlesOf = (tasks: Task[]): string[] => tasks.map((task) => task.title)

/** A chain of `levels` tasks, each the child of the one before. */
async function chain (t: Test, user: TestUser, levels: number): Promise<Task[]> {
  const made: Task[] = []
  for (let level = 1; level <= levels; level++) {
    made.push(await createTask(t, app, user, { title: `level ${level}`, parent_id: made[made.length - 1]?.id ?? null }))
  }
  return made
}

t.test('parent_id and position', async (t) => {
  t.test('new tasks go last among their siblings, top level and under a parent alike', async (t) => {
    const user = newUser()
    const first = await createTask(t, app, user, { title: 'first' })
    const second = await createTask(t, app, user, { title: 'second' })
    const child1 = await createTask(t, app, user, { title: 'child 1', parent_id: first.id })
    const child2 = await createTask(t, app, user, { title: 'child 2', parent_id: first.id })
    t.equal(first.parent_id, null)
    t.equal(child1.parent_id, first.id)
    t.ok(first.position < second.position, 'second after first')
    t.ok(child1.position < child2.position, 'child 2 after child 1')
    t.match(first.position, /^[!-~]{1,64}$/)
  })

  t.test('a parent that is not one of the caller\'s live tasks is 422 naming /parent_id, and nothing is stored', async (t) => {
    const user = newUser()
    const other = newUser()
    const foreign = await createTask(t, app, other, { title: 'not yours' })
    const trashed = await createTask(t, app, user, { title: 'trashed' })
    t.equal((await send(t, user, 'DELETE', `/api/me/tasks/${trashed.id as string}`)).statusCode, 204)
    for (const parent of [randomUUID(), foreign.id, trashed.id]) {
      const response = await send(t, user, 'POST', '/api/me/tasks', { title: 'orphan', parent_id: parent })
      t.equal(response.statusCode, 422)
      t.match(response.json(), { type: 'urn:todo-contract:problem:unprocessable', errors: [{ pointer: '/parent_id' }] })
    }
    t.same(await list(t, user, ''), [], 'nothing stored')
  })

  t.test('a cycle is 422, through PATCH, PUT and moveTask, and changes nothing', async (t) => {
    const user = newUser()
    const [top, middle, bottom] = await chain(t, user, 3) as [Task, Task, Task]
    const self = await send(t, user, 'PATCH', `/api/me/tasks/${top.id as string}`, { parent_id: top.id })
    t.equal(self.statusCode, 422, 'its own parent')
    const patch = await send(t, user, 'PATCH', `/api/me/tasks/${top.id as string}`, { parent_id: bottom.id })
    t.equal(patch.statusCode, 422, 'under its grandchild by PATCH')
    t.match(patch.json().errors, [{ pointer: '/parent_id' }])
    const put = await send(t, user, 'PUT', `/api/me/tasks/${top.id as string}`, { title: 'level 1', parent_id: middle.id })
    t.equal(put.statusCode, 422, 'under its child by PUT')
    t.equal((await move(t, user, top, bottom.id, null)).statusCode, 422, 'under its grandchild by moveTask')
    t.match((await get(t, user, top.id)).body, { parent_id: null, version: 1 }, 'unchanged')
  })

  t.test('four levels are fine, a fifth is 422 however it would come about', async (t) => {
    const user = newUser()
    const levels = await chain(t, user, 4)
    const fourth = levels[3] as Task
    const fifth = await send(t, user, 'POST', '/api/me/tasks', { title: 'level 5', parent_id: fourth.id })
    t.equal(fifth.statusCode, 422, 'a child of the fourth level')
    t.match(fifth.json().errors, [{ pointer: '/parent_id', detail: /4 levels/ }])
    // A two-level subtree moved under the third level would reach the fifth.
    const [pair] = await chain(t, user, 2) as [Task, Task]
    t.equal((await send(t, user, 'PATCH', `/api/me/tasks/${pair.id as string}`, { parent_id: (levels[2] as Task).id })).statusCode, 422)
    t.equal((await send(t, user, 'PATCH', `/api/me/tasks/${pair.id as string}`, { parent_id: (levels[1] as Task).id })).statusCode, 200, 'under the second level it fits')
  })

  t.test('re-parenting by PATCH puts the task last among its new siblings, as a task.moved change', async (t) => {
    const user = newUser()
    const parent = await createTask(t, app, user, { title: 'parent' })
    const existing = await createTask(t, app, user, { title: 'existing', parent_id: parent.id })
    const loose = await createTask(t, app, user, { title: 'loose' })
    const response = await send(t, user, 'PATCH', `/api/me/tasks/${loose.id as string}`, { parent_id: parent.id })
    t.equal(response.statusCode, 200)
    const moved = response.json()
    t.equal(moved.parent_id, parent.id)
    t.ok(moved.position > existing.position, 'after the existing child')
    t.equal(moved.version, 2)
    t.same(titlesOf(await list(t, user, `parent_id=${parent.id as string}&sort=position`)), ['existing', 'loose'])
    const rows = await sharedOwnerDatabase(t).db.selectFrom('events').select('type').where('user_id', '=', user.id).where('entity_id', '=', loose.id).orderBy('seq').execute()
    t.same(rows.map((row) => row.type), ['task.created', 'task.moved'])
    const same = await send(t, user, 'PATCH', `/api/me/tasks/${loose.id as string}`, { parent_id: parent.id })
    t.match(same.json(), { version: 2, position: moved.position }, 'the same parent again changes nothing')
  })
})

t.test('listTasks by parent and position', async (t) => {
  const user = newUser()
  const a = await createTask(t, app, user, { title: 'A' })
  await createTask(t, app, user, { title: 'B' })
  const a1 = await createTask(t, app, user, { title: 'A1', parent_id: a.id })
  await createTask(t, app, user, { title: 'A2', parent_id: a.id })
  await createTask(t, app, user, { title: 'A1x', parent_id: a1.id })
  t.same(titlesOf(await list(t, user, 'parent_id=none&sort=position')), ['A', 'B'], 'top level, first to last by default')
  t.same(titlesOf(await list(t, user, `parent_id=${a.id as string}&sort=position`)), ['A1', 'A2'], 'children only')
  t.same(titlesOf(await list(t, user, `parent_id=${a.id as string}&sort=position&order=desc`)), ['A2', 'A1'], 'desc')
  t.same(await list(t, user, `parent_id=${randomUUID()}`), [], 'an unknown parent matches nothing')
  t.equal((await list(t, user, 'sort=position')).length, 5, 'without the filter every level, flat')
  t.same(titlesOf(await list(t, user, 'sort=created_at&order=asc')), ['A', 'B', 'A1', 'A2', 'A1x'], 'other sorts are unchanged')
  t.equal((await send(t, user, 'GET', '/api/me/tasks?parent_id=top')).statusCode, 400, 'neither a uuid nor none is 400')

  t.test('pages by position with a cursor, under a parent and across levels', async (t) => {
    for (let index = 3; index <= 7; index++) await createTask(t, app, user, { title: `A${index}`, parent_id: a.id })
    for (const query of [`parent_id=${a.id as string}&sort=position`, 'sort=position', `parent_id=${a.id as string}&sort=position&order=desc`]) {
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const response = await send(t, user, 'GET', `/api/me/tasks?${query}&limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
        t.equal(response.statusCode, 200)
        const page = response.json()
        seen.push(...page.items.map((task: Task) => task.id))
        cursor = page.next_cursor
      } while (cursor !== null)
      const whole = (await list(t, user, `${query}&limit=100`)).map((task) => task.id)
      t.same(seen, whole, `${query}: pages give the whole list once, in order`)
    }
  })
})

t.test('moveTask', async (t) => {
  t.test('puts the task first, after a sibling, or under another parent', async (t) => {
    const user = newUser()
    const [x, y, z] = [await createTask(t, app, user, { title: 'x' }), await createTask(t, app, user, { title: 'y' }), await createTask(t, app, user, { title: 'z' })] as [Task, Task, Task]
    const first = await move(t, user, z, null, null)
    t.equal(first.statusCode, 200)
    t.match(first.json(), { id: z.id, parent_id: null, version: 2 })
    t.equal(first.headers.etag, '"2"')
    t.same(titlesOf(await list(t, user, 'parent_id=none&sort=position')), ['z', 'x', 'y'])
    t.equal((await move(t, user, z, null, x.id)).statusCode, 200)
    t.same(titlesOf(await list(t, user, 'parent_id=none&sort=position')), ['x', 'z', 'y'])
    const under = await move(t, user, y, x.id, null)
    t.match(under.json(), { parent_id: x.id })
    t.same(titlesOf(await list(t, user, `parent_id=${x.id as string}&sort=position`)), ['y'])
    const rows = await sharedOwnerDatabase(t).db.selectFrom('events').select('type').where('user_id', '=', user.id).where('entity_id', '=', z.id).orderBy('seq').execute()
    t.same(rows.map((row) => row.type), ['task.created', 'task.moved', 'task.moved'], 'each move is a task.moved event')
  })

  t.test('refuses an after_id that is not a sibling there, or the task itself (422), and a missing member (400)', async (t) => {
    const user = newUser()
    const parent = await createTask(t, app, user, { title: 'parent' })
    const child = await createTask(t, app, user, { title: 'child', parent_id: parent.id })
    const loose = await createTask(t, app, user, { title: 'loose' })
    for (const [parentId, afterId, why] of [[null, child.id, 'a child is not a top-level sibling'], [parent.id, loose.id, 'nor is a top-level task a child'], [null, loose.id, 'the task itself'], [null, randomUUID(), 'an unknown id']] as const) {
      const response = await move(t, user, loose, parentId, afterId)
      t.equal(response.statusCode, 422, why)
      t.match(response.json().errors, [{ pointer: '/after_id' }], why)
    }
    const missing = await send(t, user, 'POST', `/api/me/tasks/${loose.id as string}/move`, { parent_id: null })
    t.equal(missing.statusCode, 400, 'after_id missing')
    t.equal((await send(t, user, 'POST', `/api/me/tasks/${loose.id as string}/move`, { after_id: null })).statusCode, 400, 'parent_id missing')
    t.equal((await move(t, user, { id: randomUUID() }, null, null)).statusCode, 404, 'unknown task')
    t.match((await get(t, user, loose.id)).body, { version: 1, position: loose.position }, 'unchanged')
  })

  t.test('honours If-Match', async (t) => {
    const user = newUser()
    const task = await createTask(t, app, user, { title: 'kept' })
    const stale = await move(t, user, task, null, null, { 'if-match': '"9"' })
    t.equal(stale.statusCode, 412)
    t.equal(stale.headers.etag, '"1"')
    t.equal((await move(t, user, task, null, null, { 'if-match': '"1"' })).statusCode, 200)
  })

  t.test('renumbers the siblings before a key would pass 64 bytes', async (t) => {
    const user = newUser()
    const head = await createTask(t, app, user, { title: 'head' })
    const tail = await createTask(t, app, user, { title: 'tail' })
    const movers = [await createTask(t, app, user, { title: 'm0' }), await createTask(t, app, user, { title: 'm1' })]
    // Always right after the head: each key lands between the head's and the last mover's,
    // one character longer every few moves.
    let longest = 0
    for (let round = 0; round < 500; round++) {
      const mover = movers[round % 2] as Task
      const response = await move(t, user, mover, null, head.id)
      if (response.statusCode !== 200) { t.fail(`move ${round}: ${response.statusCode}`); break }
      longest = Math.max(longest, (response.json().position as string).length)
    }
    t.ok(longest <= 64, `keys stay within 64 bytes (longest ${longest})`)
    const order = await list(t, user, 'parent_id=none&sort=position')
    t.same(titlesOf(order), ['head', 'm1', 'm0', 'tail'], 'the order is kept')
    t.equal(new Set(order.map((task) => task.position)).size, 4, 'positions distinct')
    const tailNow = (await get(t, user, tail.id)).body
    t.ok(tailNow.version > 1, 'a renumbered sibling got a new version')
    t.ok(tailNow.position.length <= 3, 'and a short key again')
  })

  t.test('runs in a batch as move_task', async (t) => {
    const user = newUser()
    const parent = await createTask(t, app, user, { title: 'parent' })
    const task = await createTask(t, app, user, { title: 'task' })
    const response = await send(t, user, 'POST', '/api/me/batch', { operations: [{ op: 'move_task', id: task.id, if_match: '"1"', body: { parent_id: parent.id, after_id: null } }] })
    t.equal(response.statusCode, 200)
    t.match(response.json().results, [{ status: 200, etag: '"2"', body: { parent_id: parent.id } }])
  })
})

t.test('concurrent moves', async (t) => {
  t.test('two tasks moved under each other at once: one succeeds, the other is 422, never a cycle', async (t) => {
    for (let round = 0; round < 10; round++) {
      const user = newUser()
      const a = await createTask(t, app, user, { title: 'a' })
      const b = await createTask(t, app, user, { title: 'b' })
      const answers = await Promise.all([
        send(t, user, 'PATCH', `/api/me/tasks/${a.id as string}`, { parent_id: b.id }),
        move(t, user, b, a.id, null)
      ])
      t.same(answers.map((answer) => answer.statusCode).sort(), [200, 422], `round ${round}`)
      const [aNow, bNow] = [(await get(t, user, a.id)).body, (await get(t, user, b.id)).body]
      t.ok(aNow.parent_id === null || bNow.parent_id === null, 'at least one stays at the top')
    }
  })

  t.test('two re-parentings each fine alone but a fifth level together: one is 422', async (t) => {
    for (let round = 0; round < 10; round++) {
      const user = newUser()
      const root = await createTask(t, app, user, { title: 'root' })
      const [p1, p2] = await chain(t, user, 2) as [Task, Task]
      const [q1, q2] = await chain(t, user, 2) as [Task, Task]
      // q1 under p2: q2 on level 4. p1 under root: p2 on level 3. Both: q2 on level 5.
      const answers = await Promise.all([move(t, user, q1, p2.id, null), move(t, user, p1, root.id, null)])
      t.same(answers.map((answer) => answer.statusCode).sort(), [200, 422], `round ${round}`)
      const deepest = (await get(t, user, q2.id)).body
      const levels = async (task: Task): Promise<number> => task.parent_id === null ? 1 : 1 + await levels((await get(t, user, task.parent_id)).body)
      t.ok(await levels(deepest) <= 4, 'no task below the fourth level')
    }
  })

  t.test('many moves to one place at once all succeed, with distinct positions', async (t) => {
    const user = newUser()
    const anchor = await createTask(t, app, user, { title: 'anchor' })
    const movers: Task[] = []
    for (let index = 0; index < 12; index++) movers.push(await createTask(t, app, user, { title: `m${index}` }))
    const answers = await Promise.all(movers.map(async (mover) => await move(t, user, mover, null, anchor.id)))
    t.same(answers.map((answer) => answer.statusCode), movers.map(() => 200))
    const all = await list(t, user, 'parent_id=none&sort=position&limit=100')
    t.equal(new Set(all.map((task) => task.position)).size, all.length, 'no two positions equal')
    t.equal(all[0]?.title, 'anchor')
  })

  t.test('concurrent creates under one parent get distinct positions', async (t) => {
    const user = newUser()
    const parent = await createTask(t, app, user, { title: 'parent' })
    const made = await Promise.all(Array.from({ length: 12 }, async (_, index) => await send(t, user, 'POST', '/api/me/tasks', { title: `c${index}`, parent_id: parent.id })))
    t.same(made.map((answer) => answer.statusCode), made.map(() => 201))
    t.equal(new Set(made.map((answer) => answer.json().position)).size, 12)
  })
})

t.test('completion', async (t) => {
  t.test('completing a task completes its incomplete descendants, each a change; reopening reopens nothing else', async (t) => {
    const user = newUser()
    const [top, middle, bottom] = await chain(t, user, 3) as [Task, Task, Task]
    const done = await createTask(t, app, user, { title: 'done already', parent_id: top.id, completed: true })
    const response = await send(t, user, 'PATCH', `/api/me/tasks/${top.id as string}/complete`, { completed: true })
    t.match(response.json(), { completed: true, version: 2 })
    t.match((await get(t, user, middle.id)).body, { completed: true, version: 2 })
    t.match((await get(t, user, bottom.id)).body, { completed: true, version: 2 })
    t.match((await get(t, user, done.id)).body, { completed: true, version: 1 }, 'a completed one is left as it was')
    const rows = await sharedOwnerDatabase(t).db.selectFrom('events').select(['type', 'entity_id']).where('user_id', '=', user.id).where('type', '=', 'task.completed').execute()
    t.equal(rows.length, 3, 'one task.completed each')
    await send(t, user, 'PATCH', `/api/me/tasks/${top.id as string}/complete`, { completed: false })
    t.match((await get(t, user, middle.id)).body, { completed: true }, 'reopening the parent leaves the child')
  })

  t.test('a recurring descendant advances instead', async (t) => {
    const user = newUser()
    const parent = await createTask(t, app, user, { title: 'parent' })
    const weekly = await createTask(t, app, user, { title: 'weekly', parent_id: parent.id, due_date: '2026-12-07', recurrence_rule: 'FREQ=WEEKLY' })
    const response = await send(t, user, 'PATCH', `/api/me/tasks/${parent.id as string}`, { completed: true })
    t.equal(response.statusCode, 200)
    t.match((await get(t, user, weekly.id)).body, { completed: false, due_date: '2026-12-14', version: 2 })
  })
})

t.test('the trash takes and gives back whole subtrees', async (t) => {
  t.test('deleting a task trashes its descendants with one deleted_at; restoring brings them back', async (t) => {
    const user = newUser()
    const [top, middle, bottom] = await chain(t, user, 3) as [Task, Task, Task]
    t.equal((await send(t, user, 'DELETE', `/api/me/tasks/${top.id as string}`)).statusCode, 204)
    for (const task of [top, middle, bottom]) t.equal((await get(t, user, task.id)).statusCode, 404)
    const trash = (await send(t, user, 'GET', '/api/me/trash')).json().items as Task[]
    t.equal(trash.length, 3)
    t.equal(new Set(trash.map((task) => task.deleted_at)).size, 1, 'one deleted_at')
    const restored = await send(t, user, 'POST', `/api/me/tasks/${top.id as string}/restore`)
    t.match(restored.json(), { id: top.id, deleted_at: null, version: 3 })
    t.match((await get(t, user, bottom.id)).body, { parent_id: middle.id, version: 3 }, 'the subtree is back as it was')
  })

  t.test('a task restored without its parent comes back at the top level', async (t) => {
    const user = newUser()
    const [top, middle] = await chain(t, user, 2) as [Task, Task]
    await send(t, user, 'DELETE', `/api/me/tasks/${top.id as string}`)
    const restored = await send(t, user, 'POST', `/api/me/tasks/${middle.id as string}/restore`)
    t.match(restored.json(), { parent_id: null, deleted_at: null })
    t.equal((await get(t, user, top.id)).statusCode, 404, 'the parent stays in the trash')
  })

  t.test('a restored task whose position a sibling took goes last', async (t) => {
    const user = newUser()
    const first = await createTask(t, app, user, { title: 'first' })
    await send(t, user, 'DELETE', `/api/me/tasks/${first.id as string}`)
    // The next create takes the first free key again: the one the trashed task held.
    const taker = await createTask(t, app, user, { title: 'taker' })
    t.equal(taker.position, first.position)
    const restored = (await send(t, user, 'POST', `/api/me/tasks/${first.id as string}/restore`)).json()
    t.ok(restored.position > taker.position, 'last')
  })

  t.test('purging a task purges the descendants trashed with it; clear-completed counts every task moved', async (t) => {
    const user = newUser()
    const [top, middle] = await chain(t, user, 2) as [Task, Task]
    await send(t, user, 'DELETE', `/api/me/tasks/${top.id as string}`)
    t.equal((await send(t, user, 'DELETE', `/api/me/trash/${top.id as string}`)).statusCode, 204)
    t.equal((await send(t, user, 'POST', `/api/me/tasks/${middle.id as string}/restore`)).statusCode, 404, 'the child went with it')
    const [done, child] = await chain(t, user, 2) as [Task, Task]
    await send(t, user, 'PATCH', `/api/me/tasks/${done.id as string}`, { completed: true })
    const cleared = await send(t, user, 'POST', '/api/me/tasks/clear-completed')
    t.same(cleared.json(), { trashed: 2 }, 'the completed task and its child')
    t.equal((await get(t, user, child.id)).statusCode, 404)
  })
})
