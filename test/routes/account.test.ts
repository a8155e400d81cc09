/**
 * The account (API.md part two, "Account"): exportAccount, importAccount, deleteCurrentUser.
 * Tasks are written as fixtures through the owner's connection (the tables' triggers still
 * give them change numbers, events and armed reminders), so these tests do not depend on
 * how the task routes create subtasks.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { type Kysely, sql } from 'kysely'
import t, { type Test } from 'tap'
import type { Database } from '../../src/database/types.js'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { sharedDb, sharedUrl } from '../helpers/database.js'
import { openStream, streamsRegistered } from '../helpers/event-stream.js'
import { createCategory, newUser, type TestUser } from '../helpers/factories.js'
import { PUBLIC_ADDRESS, resolveTo } from '../helpers/webhooks.js'

const HOOK_URL = 'https://hooks.example.com/todo'
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface TaskFixture {
  id?: string
  title?: string
  parent_id?: string | null
  position?: string
  category_id?: string | null
  deleted_at?: string | null
  due_at?: string | null
  due_date?: string | null
  recurrence_rule?: string | null
  reminders?: unknown[]
  completed?: boolean
  tags?: string[]
}

/** Inserts a task as the owner (a fixture); its id. */
async function insertTask (db: Kysely<Database>, userId: string, task: TaskFixture = {}): Promise<string> {
  const id = task.id ?? randomUUID()
  const due = task.due_date ?? null
  await sql`
    INSERT INTO tasks (user_id, id, title, parent_id, position, category_id, deleted_at, due_at, due_date, recurrence_rule,
                       recurrence_start_at, recurrence_start_date, reminders, completed, completed_at, tags)
    VALUES (${userId}, ${id}, ${task.title ?? 'A task'}, ${task.parent_id ?? null}, ${task.position ?? 'a0'}, ${task.category_id ?? null},
            ${task.deleted_at ?? null}, ${task.due_at ?? null}, ${due}::date, ${task.recurrence_rule ?? null},
            ${task.recurrence_rule != null ? task.due_at ?? null : null}, ${task.recurrence_rule != null ? due : null}::date,
            ${JSON.stringify(task.reminders ?? [])}::jsonb, ${task.completed ?? false},
            CASE WHEN ${task.completed ?? false} THEN now() END, ${task.tags ?? []}::text[])
  `.execute(db)
  return id
}

async function exportOf (t: Test, app: FastifyInstance, user: TestUser): Promise<Record<string, any>> {
  const response = await inject(t, app, { method: 'GET', url: '/api/me/export', headers: user.headers })
  t.equal(response.statusCode, 200, 'exported')
  return response.json()
}

/** A rich account: categories, a tree with a trashed branch, a recurring task with completions, a webhook. */
async function fillAccount (t: Test, app: FastifyInstance, db: Kysely<Database>, user: TestUser): Promise<void> {
  const home = await createCategory(t, app, user, 'Home')
  await createCategory(t, app, user, 'Work')
  t.equal((await inject(t, app, { method: 'PATCH', url: '/api/me', headers: user.headers, payload: { time_zone: 'Europe/Berlin' } })).statusCode, 200)
  const root = await insertTask(db, user.id, { title: 'Root', position: 'a0', category_id: home.id as string, tags: ['house', 'weekly'] })
  const child = await insertTask(db, user.id, { title: 'Child', parent_id: root, position: 'a0' })
  await insertTask(db, user.id, { title: 'Second child', parent_id: root, position: 'a1', completed: true })
  await insertTask(db, user.id, { title: 'Grandchild', parent_id: child, position: 'a0', reminders: [{ at: '2099-01-01T08:00:00.000Z' }] })
  await insertTask(db, user.id, { title: 'Trashed child', parent_id: root, position: 'a1', deleted_at: '2026-01-01T00:00:00.000Z' })
  const recurring = await insertTask(db, user.id, {
    title: 'Water the plants', position: 'a1', due_date: '2026-12-01', recurrence_rule: 'FREQ=WEEKLY', reminders: [{ before_due: 'PT1H' }]
  })
  await insertTask(db, user.id, { title: 'Timed', position: 'a2', due_at: '2099-03-01T10:00:00.000Z' })
  await sql`
    INSERT INTO task_completions (user_id, task_id, occurrence_date, completed_at)
    VALUES (${user.id}, ${recurring}, '2026-11-17', '2026-11-17T09:00:00Z'), (${user.id}, ${recurring}, '2026-11-24', '2026-11-24T09:00:00Z')
  `.execute(db)
  const hook = await inject(t, app, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url: HOOK_URL, events: ['task.created'], description: 'Mine' } })
  t.equal(hook.statusCode, 201)
}

/** A document as the round trip must keep it: without what API.md lets differ, items and keys in one order. */
function comparable (document: Record<string, any>): unknown {
  const byId = (a: { id: string }, b: { id: string }): number => a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys)
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => [k, sortKeys(v)]))
    return value
  }
  const { exported_at: _at, user, webhooks, ...rest } = document
  return sortKeys({
    ...rest,
    user: { ...user, created_at: undefined, id: undefined },
    categories: [...rest.categories].map((c: any) => ({ ...c, user_id: undefined })).sort(byId),
    tasks: [...rest.tasks].map((task: any) => ({ ...task, user_id: undefined })).sort(byId),
    completions: [...rest.completions].sort((a: any, b: any) => `${a.task_id as string}${a.occurrence_due as string}` < `${b.task_id as string}${b.occurrence_due as string}` ? -1 : 1),
    webhooks: webhooks.map(({ url, events, description }: any) => ({ url, events, description }))
  })
}

t.test('account', async (t) => {
  const app = await buildTestApp(t, { webhookResolve: resolveTo(PUBLIC_ADDRESS) })
  const db = sharedDb(t)
  const confirm = (user: TestUser, value = user.id): Record<string, string> => ({ ...user.headers, 'confirm-delete': value })

  t.test('exportAccount', async (t) => {
    t.test('answers every part of the account as one document, as an attachment', async (t) => {
      const user = newUser()
      await fillAccount(t, app, db, user)
      const response = await inject(t, app, { method: 'GET', url: '/api/me/export', headers: user.headers })
      t.equal(response.statusCode, 200)
      t.match(response.headers['content-type'], /^application\/json/)
      t.match(response.headers['content-disposition'], /^attachment; filename="todo-export-\d{4}-\d{2}-\d{2}\.json"$/)
      const document = response.json()
      t.equal(document.format, 'todo-contract-export/1')
      t.equal(response.headers['content-disposition'], `attachment; filename="todo-export-${(document.exported_at as string).slice(0, 10)}.json"`)
      t.match(document.user, { id: user.id, time_zone: 'Europe/Berlin' })
      t.same(document.categories.map((c: { name: string }) => c.name).sort(), ['Home', 'Work'])
      t.equal(document.tasks.length, 7, 'every task, the trash included')
      t.ok(document.tasks.some((task: { deleted_at: string | null }) => task.deleted_at !== null), 'trashed tasks carry deleted_at')
      t.equal(document.completions.length, 2)
      t.match(document.completions[0], { occurrence_due: /^2026-11-(17|24)$/ })
      t.equal(document.webhooks.length, 1)
      t.notMatch(response.body, /whsec_/, 'no webhook secret')
    })

    t.test('an empty account exports empty lists; another user\'s path is 403', async (t) => {
      const user = newUser()
      const document = await exportOf(t, app, user)
      t.same([document.categories, document.tasks, document.completions, document.webhooks], [[], [], [], []])
      const other = await inject(t, app, { method: 'GET', url: `/api/${encodeURIComponent(newUser().id)}/export`, headers: user.headers })
      t.equal(other.statusCode, 403)
    })

    t.test('pages through more rows than one page holds', async (t) => {
      const user = newUser()
      await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })
      await sql`
        INSERT INTO tasks (user_id, title, position)
        SELECT ${user.id}, 'Task ' || n, 'a' || lpad(n::text, 6, '0') FROM generate_series(1, 2500) AS n
      `.execute(db)
      const document = await exportOf(t, app, user)
      t.equal(document.tasks.length, 2500)
      t.equal(new Set(document.tasks.map((task: { id: string }) => task.id)).size, 2500, 'each task once')
    })
  })

  t.test('deleteCurrentUser', async (t) => {
    t.test('answers 428 without Confirm-Delete holding the caller\'s id exactly', async (t) => {
      const user = newUser()
      await createCategory(t, app, user, 'Kept')
      for (const headers of [user.headers, confirm(user, ''), confirm(user, 'me'), confirm(user, newUser().id), confirm(user, user.id.toUpperCase()), confirm(user, ` ${user.id}`)]) {
        const response = await inject(t, app, { method: 'DELETE', url: '/api/me', headers })
        t.equal(response.statusCode, 428)
        t.equal(response.json().type, 'urn:todo-contract:problem:precondition-required')
      }
      t.equal((await inject(t, app, { method: 'GET', url: '/api/me/categories', headers: user.headers })).json().items.length, 1, 'nothing was deleted')
    })

    t.test('erases every row of the user in every table, and the jobs queued for them', async (t) => {
      const listening = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl() }, webhookResolve: resolveTo(PUBLIC_ADDRESS) })
      const baseUrl = await listening.listen({ port: 0, host: '127.0.0.1' })
      const user = newUser()
      const bystander = newUser()
      for (const someone of [user, bystander]) {
        await fillAccount(t, listening, db, someone)
        // A task written after the webhook: its event owes a delivery (queued: no job runs here).
        await insertTask(db, someone.id, { title: 'Owed a delivery', position: 'z0' })
        const batch = await inject(t, listening, {
          method: 'POST',
          url: '/api/me/batch',
          headers: { ...someone.headers, 'idempotency-key': randomUUID() },
          payload: { operations: [{ op: 'create_category', body: { name: 'By batch' } }] }
        })
        t.equal(batch.statusCode, 200, 'an idempotent request')
      }
      const [firing] = (await sql<{ id: string }>`SELECT id FROM tasks WHERE user_id = ${user.id} AND reminders <> '[]' LIMIT 1`.execute(db)).rows
      await sql`INSERT INTO reminder_firings (user_id, task_id, reminder, scheduled_for) VALUES (${user.id}, ${firing?.id}, 0, now())`.execute(db)
      await sql`
        INSERT INTO webhook_attempts (user_id, webhook_id, event_seq, attempt, started_at, status_code, error, duration_ms)
        SELECT user_id, webhook_id, event_seq, 1, now(), 500, NULL, 12 FROM webhook_deliveries WHERE user_id = ${user.id}
      `.execute(db)
      const stream = await openStream(baseUrl, user.headers)
      t.equal(stream.status, 200)
      await streamsRegistered(db, user.id, 1)

      const tables = (await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'user_id'
        ORDER BY table_name
      `.execute(db)).rows.map((row) => row.table_name)
      const rowsOf = async (userId: string): Promise<Record<string, number>> => {
        const counts: Record<string, number> = {}
        for (const table of tables) {
          const { rows } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM ${sql.table(table)} WHERE user_id = ${userId}`.execute(db)
          counts[table] = rows[0]?.n ?? 0
        }
        counts.users = (await sql<{ n: number }>`SELECT count(*)::integer AS n FROM users WHERE id = ${userId}`.execute(db)).rows[0]?.n ?? 0
        counts.jobs = (await sql<{ n: number }>`SELECT count(*)::integer AS n FROM graphile_worker._private_jobs WHERE payload->>'user_id' = ${userId}`.execute(db)).rows[0]?.n ?? 0
        return counts
      }
      const before = await rowsOf(user.id)
      for (const table of ['categories', 'tasks', 'task_completions', 'reminder_firings', 'events', 'change_counters', 'event_streams', 'webhooks', 'webhook_deliveries', 'webhook_attempts', 'idempotency_keys', 'users', 'jobs']) {
        t.ok((before[table] ?? 0) > 0, `the fixture fills ${table}`)
      }
      const bystanderBefore = await rowsOf(bystander.id)

      const started = Date.now()
      const response = await inject(t, listening, { method: 'DELETE', url: '/api/me', headers: confirm(user) })
      t.equal(response.statusCode, 204)
      await Promise.race([stream.ended, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('the stream did not end')) }, 1_000))])
      t.ok(Date.now() - started < 1_000 + 500, 'the open event stream ended within a second of the deletion')

      const after = await rowsOf(user.id)
      t.same(Object.entries(after).filter(([, n]) => n > 0), [], `no row of the user is left (${tables.join(', ')}, users, jobs)`)
      t.same(await rowsOf(bystander.id), bystanderBefore, 'another user keeps everything')
    })

    t.test('ends the user\'s streams on another process too', async (t) => {
      // The event hub listens on the database the URL names (the apps' pools are the shared one).
      const first = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl() } })
      const second = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl() } })
      const baseUrl = await second.listen({ port: 0, host: '127.0.0.1' })
      const user = newUser()
      const stream = await openStream(baseUrl, user.headers)
      t.equal(stream.status, 200)
      await streamsRegistered(db, user.id, 1)
      const started = Date.now()
      t.equal((await inject(t, first, { method: 'DELETE', url: '/api/me', headers: confirm(user) })).statusCode, 204)
      await Promise.race([stream.ended, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('the stream did not end within 1 s')) }, 1_000))])
      t.ok(Date.now() - started <= 1_000, `ended after ${Date.now() - started} ms`)
    })

    t.test('is idempotent, and a later request starts a new, empty account', async (t) => {
      const user = newUser()
      await fillAccount(t, app, db, user)
      const first = await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })
      t.equal((await inject(t, app, { method: 'DELETE', url: '/api/me', headers: confirm(user) })).statusCode, 204)
      t.equal((await inject(t, app, { method: 'DELETE', url: '/api/me', headers: confirm(user) })).statusCode, 204, 'again: 204')
      const again = await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })
      t.equal(again.statusCode, 200)
      t.match(again.json(), { id: user.id, time_zone: 'UTC' }, 'settings are gone')
      t.ok(again.json().created_at > first.json().created_at, 'a new account')
      const document = await exportOf(t, app, user)
      t.same([document.categories, document.tasks, document.completions, document.webhooks], [[], [], [], []])
      t.equal((await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: user.headers, payload: { name: 'Home' } })).statusCode, 201, 'the new account can be written')
    })

    t.test('removes the user\'s rate-limit counter from Redis', async (t) => {
      const limited = await buildTestApp(t, { env: { RATE_LIMIT_PER_MINUTE: '100', RATE_LIMIT_REDIS_URL: REDIS_URL } })
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
      t.teardown(() => { redis.disconnect() })
      const user = newUser()
      const key = `todo-contract:rate-limit:${user.id}`
      await inject(t, limited, { method: 'GET', url: '/api/me', headers: user.headers })
      t.equal(await redis.exists(key), 1, 'counted in Redis')
      t.equal((await inject(t, limited, { method: 'DELETE', url: '/api/me', headers: confirm(user) })).statusCode, 204)
      t.equal(await redis.exists(key), 0, 'the counter is gone')
    })
  })

  t.test('importAccount', async (t) => {
    t.test('export, delete, import, export gives the same document', async (t) => {
      const user = newUser()
      await fillAccount(t, app, db, user)
      const exported = await exportOf(t, app, user)
      t.equal((await inject(t, app, { method: 'DELETE', url: '/api/me', headers: confirm(user) })).statusCode, 204)
      const response = await inject(t, app, { method: 'POST', url: '/api/me/import', headers: user.headers, payload: exported })
      t.equal(response.statusCode, 201)
      const result = response.json()
      t.match(result, { tasks: 7, categories: 2, completions: 2 })
      t.equal(result.webhooks.length, 1)
      t.match(result.webhooks[0].secret, /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/)
      const again = await exportOf(t, app, user)
      t.same(comparable(again), comparable(exported), 'the same document but for what may differ')
      t.match(again.webhooks[0], { id: result.webhooks[0].id, enabled: false, disabled_reason: null }, 'webhooks come back disabled')
      t.notMatch(JSON.stringify(again), result.webhooks[0].secret)

      const events = (await sql<{ type: string, n: number }>`SELECT type, count(*)::integer AS n FROM events WHERE user_id = ${user.id} GROUP BY type ORDER BY type`.execute(db)).rows
      t.same(events, [{ type: 'category.created', n: 2 }, { type: 'task.created', n: 7 }], 'one created event per item')
      const armed = (await sql<{ n: number }>`SELECT count(*)::integer AS n FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks k ON k.id = j.task_id WHERE j.payload->>'user_id' = ${user.id} AND k.identifier = 'fire_reminder'`.execute(db)).rows[0]?.n
      t.ok((armed ?? 0) >= 1, 'imported reminders are armed')
      const sync = await inject(t, app, { method: 'GET', url: '/api/me/sync', headers: user.headers })
      t.equal(sync.json().tasks.length, 7, 'imported tasks appear in sync')
    })

    t.test('into an account of another user id, the caller\'s account is the target', async (t) => {
      const source = newUser()
      await fillAccount(t, app, db, source)
      const exported = await exportOf(t, app, source)
      const target = newUser()
      t.equal((await inject(t, app, { method: 'POST', url: '/api/me/import', headers: target.headers, payload: exported })).statusCode, 201)
      const copied = await exportOf(t, app, target)
      t.equal(copied.user.id, target.id)
      t.equal(copied.user.time_zone, 'Europe/Berlin', 'the document\'s zone is taken')
      t.ok(copied.tasks.every((task: { user_id: string }) => task.user_id === target.id))
      t.same(comparable(copied), comparable(exported))
      t.equal((await exportOf(t, app, source)).tasks.length, 7, 'the source keeps its own')
    })

    t.test('answers 409 when the account has a task (even in the trash) or a category; webhooks do not count', async (t) => {
      const source = newUser()
      await fillAccount(t, app, db, source)
      const exported = await exportOf(t, app, source)
      const withCategory = newUser()
      await createCategory(t, app, withCategory)
      const withTrash = newUser()
      await inject(t, app, { method: 'GET', url: '/api/me', headers: withTrash.headers })
      await insertTask(db, withTrash.id, { deleted_at: '2026-01-01T00:00:00Z' })
      for (const user of [withCategory, withTrash]) {
        const response = await inject(t, app, { method: 'POST', url: '/api/me/import', headers: user.headers, payload: exported })
        t.equal(response.statusCode, 409)
        t.equal(response.json().type, 'urn:todo-contract:problem:conflict')
      }
      const withWebhook = newUser()
      await inject(t, app, { method: 'POST', url: '/api/me/webhooks', headers: withWebhook.headers, payload: { url: HOOK_URL, events: ['*'] } })
      t.equal((await inject(t, app, { method: 'POST', url: '/api/me/import', headers: withWebhook.headers, payload: exported })).statusCode, 201)
      t.equal((await exportOf(t, app, withWebhook)).webhooks.length, 2, 'the account\'s own webhook stays')
    })

    t.test('answers 422 when the account\'s and the document\'s webhooks would pass 10', async (t) => {
      const user = newUser()
      for (let i = 0; i < 9; i++) await inject(t, app, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url: `${HOOK_URL}/${i}`, events: ['*'] } })
      const document = emptyDocument()
      document.webhooks = [0, 1].map((i) => ({ id: randomUUID(), url: `${HOOK_URL}/new/${i}`, events: ['*'], description: null, enabled: true, disabled_reason: null, created_at: '2026-01-01T00:00:00.000Z' }))
      const response = await inject(t, app, { method: 'POST', url: '/api/me/import', headers: user.headers, payload: document })
      t.equal(response.statusCode, 422)
      t.equal((await exportOf(t, app, user)).webhooks.length, 9, 'nothing was stored')
    })

    t.test('answers 422 naming the item when the document does not hold together, and stores nothing', async (t) => {
      const task = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...taskItem(id), ...extra })
      const [a, b, c, d, e] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()]
      const cases: Array<[string, (doc: ReturnType<typeof emptyDocument>) => void, string]> = [
        ['a category that is not in the document', (doc) => { doc.tasks = [task(a, { category_id: randomUUID() })] }, '/tasks/0/category_id'],
        ['a parent that is not in the document', (doc) => { doc.tasks = [task(a), task(b, { parent_id: randomUUID() })] }, '/tasks/1/parent_id'],
        ['a completion of a task that is not in the document', (doc) => { doc.completions = [{ task_id: randomUUID(), occurrence_due: '2026-01-01', completed_at: '2026-01-01T10:00:00.000Z' }] }, '/completions/0/task_id'],
        ['a task id twice', (doc) => { doc.tasks = [task(a), task(a, { position: 'a1' })] }, '/tasks/1/id'],
        ['a category id twice', (doc) => { doc.categories = [categoryItem(a, 'One'), categoryItem(a, 'Two')] }, '/categories/1/id'],
        ['two siblings with one position', (doc) => { doc.tasks = [task(a), task(b, { position: 'a0' })] }, '/tasks/1/position'],
        ['a fifth level', (doc) => {
          doc.tasks = [task(a), task(b, { parent_id: a }), task(c, { parent_id: b }), task(d, { parent_id: c }), task(e, { parent_id: d })]
        }, '/tasks/4/parent_id'],
        ['a cycle', (doc) => { doc.tasks = [task(a, { parent_id: b }), task(b, { parent_id: a })] }, '/tasks/0/parent_id'],
        ['a live task under a trashed one', (doc) => { doc.tasks = [task(a, { deleted_at: '2026-01-01T00:00:00.000Z' }), task(b, { parent_id: a })] }, '/tasks/1/parent_id']
      ]
      const user = newUser()
      for (const [name, change, pointer] of cases) {
        const document = emptyDocument()
        change(document)
        const response = await inject(t, app, { method: 'POST', url: '/api/me/import', headers: user.headers, payload: document })
        t.equal(response.statusCode, 422, name)
        t.ok(response.json().errors?.some((error: { pointer?: string }) => error.pointer === pointer), `${name}: names ${pointer}`)
      }
      const trashedSiblings = emptyDocument()
      trashedSiblings.tasks = [task(a), task(b, { position: 'a0', deleted_at: '2026-01-01T00:00:00.000Z' }), task(c, { parent_id: b, deleted_at: '2026-01-01T00:00:00.000Z' })]
      const stored = newUser()
      t.equal((await inject(t, app, { method: 'POST', url: '/api/me/import', headers: stored.headers, payload: trashedSiblings })).statusCode, 201, 'a trashed task may share a live sibling\'s position')
      const document = await exportOf(t, app, user)
      t.same([document.tasks, document.categories], [[], []], 'nothing was stored by the refused imports')
    })

    t.test('answers 400 for a document that breaks the export schema or holds values the service cannot take', async (t) => {
      const user = newUser()
      const { format: _format, ...withoutFormat } = emptyDocument()
      const badZone = emptyDocument()
      badZone.tasks = [{ ...taskItem(randomUUID()), time_zone: 'Mars/Olympus' }]
      const badRule = emptyDocument()
      badRule.tasks = [{ ...taskItem(randomUUID()), recurrence_rule: 'FREQ=WEEKLY' }]
      for (const payload of [withoutFormat, { ...emptyDocument(), format: 'todo-contract-export/2' }, { ...emptyDocument(), tasks: [{ id: randomUUID() }] }, badZone, badRule]) {
        const response = await inject(t, app, { method: 'POST', url: '/api/me/import', headers: user.headers, payload })
        t.equal(response.statusCode, 400)
      }
    })

    t.test('takes bodies up to IMPORT_MAX_BYTES; more is 413', async (t) => {
      const small = await buildTestApp(t, { env: { IMPORT_MAX_BYTES: String(2 * 1024 * 1024) } })
      const user = newUser()
      const document = emptyDocument()
      // About 1.5 MiB: over the 1 MiB every other route takes.
      document.tasks = Array.from({ length: 1500 }, (_, i) => ({ ...taskItem(randomUUID()), position: `a${String(i).padStart(5, '0')}`, description: 'x'.repeat(900) }))
      const accepted = await inject(t, small, { method: 'POST', url: '/api/me/import', headers: user.headers, payload: document })
      t.equal(accepted.statusCode, 201)
      document.tasks = Array.from({ length: 2500 }, (_, i) => ({ ...taskItem(randomUUID()), position: `a${String(i).padStart(5, '0')}`, description: 'x'.repeat(900) }))
      const refused = await inject(t, small, { method: 'POST', url: '/api/me/import', headers: newUser().headers, payload: document })
      t.equal(refused.statusCode, 413)
      t.equal(refused.json().type, 'urn:todo-contract:problem:payload-too-large')
    })
  })
})

function emptyDocument (): { format: string, exported_at: string, user: Record<string, unknown>, categories: unknown[], tasks: unknown[], completions: unknown[], webhooks: unknown[] } {
  return {
    format: 'todo-contract-export/1',
    exported_at: '2026-11-28T10:00:00.000Z',
    user: { id: 'someone', email: null, name: null, time_zone: 'UTC', created_at: '2026-01-01T00:00:00.000Z' },
    categories: [],
    tasks: [],
    completions: [],
    webhooks: []
  }
}

function categoryItem (id: string, name: string): Record<string, unknown> {
  return { id, user_id: 'someone', name, color: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }
}

function taskItem (id: string): Record<string, unknown> {
  return {
    id,
    user_id: 'someone',
    title: 'A task',
    description: null,
    completed: false,
    completed_at: null,
    priority: 'medium',
    due_at: null,
    due_date: null,
    time_zone: null,
    recurrence_rule: null,
    reminders: [],
    category_id: null,
    parent_id: null,
    position: 'a0',
    tags: [],
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    version: 1,
    deleted_at: null
  }
}
