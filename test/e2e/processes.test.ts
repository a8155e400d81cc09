/**
 * Three service processes on one database, as a load balancer would spread a client's
 * requests over them (each process its own port, no state shared but the database and
 * Redis): one Idempotency-Key raced through all three creates one task; the per-user rate
 * limit (RATE_LIMIT_REDIS_URL) is one limit across them; a client that writes through one
 * process and syncs through another misses no change and sees each task's latest state; an
 * event written through one reaches the user's streams on all three.
 */
import { sql } from 'kysely'
import t from 'tap'
import { isolatedDatabase } from '../helpers/database.js'
import { openStream } from '../helpers/event-stream.js'
import { type RunningServer, startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

const LIMIT = 40

interface SyncPage { tasks: Array<{ id: string, title: string, version: number }>, next_token: string, has_more: boolean }

t.test('three processes on one database', async (t) => {
  const { url, db } = await isolatedDatabase(t)
  const env = {
    DATABASE_URL: url,
    JWT_SECRET: TEST_SECRET,
    MIGRATE_ON_START: 'false',
    NODE_ENV: 'test',
    RATE_LIMIT_PER_MINUTE: String(LIMIT),
    RATE_LIMIT_REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
  }
  const servers: RunningServer[] = await Promise.all([0, 1, 2].map(async () => await startServer(t, env)))
  const on = (i: number): string => (servers[i % 3] as RunningServer).baseUrl
  const json = { 'content-type': 'application/json' }

  t.test('one Idempotency-Key raced through all three creates one task', async (t) => {
    const user = newUserId('race')
    const headers = { ...bearer(tokenFor(user)), ...json, 'idempotency-key': 'race-1' }
    const body = JSON.stringify({ title: 'raced' })
    const answers = await Promise.all(Array.from({ length: 9 }, async (_, i) => {
      const response = await fetch(`${on(i)}/api/me/tasks`, { method: 'POST', headers, body })
      return { status: response.status, body: await response.json() as { id?: string } }
    }))
    const created = answers.filter((answer) => answer.status === 201)
    t.ok(created.length >= 1, `${created.length} of 9 answered 201`)
    t.same(answers.filter((answer) => answer.status !== 201).map((answer) => answer.status), answers.filter((answer) => answer.status !== 201).map(() => 409), 'the others: 409 while the first was in flight')
    t.equal(new Set(created.map((answer) => answer.body.id)).size, 1, 'every 201 names the same task')
    const { rows } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM tasks WHERE user_id = ${user}`.execute(db)
    t.equal(rows[0]?.n, 1, 'one task in the database')
    for (let i = 0; i < 3; i++) {
      const replay = await fetch(`${on(i)}/api/me/tasks`, { method: 'POST', headers, body })
      t.equal(replay.status, 201)
      t.equal(replay.headers.get('idempotent-replayed'), 'true', `process ${i} replays it`)
      t.equal(((await replay.json()) as { id: string }).id, created[0]?.body.id)
    }
  })

  t.test('the rate limit is one limit across the processes', async (t) => {
    const headers = bearer(tokenFor(newUserId('limited')))
    const statuses: number[] = []
    for (let i = 0; i < LIMIT + 10; i++) statuses.push((await fetch(`${on(i)}/api/me`, { headers })).status)
    t.equal(statuses.filter((status) => status === 200).length, LIMIT, `${LIMIT} answered`)
    t.same(statuses.slice(LIMIT), Array(10).fill(429), 'then 429 from every process')
  })

  t.test('writes through one process, syncs through another: no change missed, the latest state', async (t) => {
    const headers = { ...bearer(tokenFor(newUserId('sync'))), ...json }
    let token = ((await (await fetch(`${on(0)}/api/me/sync`, { headers })).json()) as SyncPage).next_token
    const seen = new Map<string, { title: string, version: number }>()
    let id: string | undefined
    for (let i = 0; i < 8; i++) {
      // Create one task, then rename it through the other processes in turn.
      const write = id === undefined
        ? await fetch(`${on(i)}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: `change ${i}` }) })
        : await fetch(`${on(i)}/api/me/tasks/${id}`, { method: 'PATCH', headers: { ...headers, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ title: `change ${i}` }) })
      t.ok(write.status === 200 || write.status === 201, `write ${i} through process ${i % 3}`)
      id ??= ((await write.json()) as { id: string }).id
      const page = (await (await fetch(`${on(i + 1)}/api/me/sync?since=${encodeURIComponent(token)}`, { headers })).json()) as SyncPage
      t.same(page.tasks.map((task) => task.title), [`change ${i}`], `sync ${i} through process ${(i + 1) % 3} holds that change`)
      for (const task of page.tasks) seen.set(task.id, { title: task.title, version: task.version })
      token = page.next_token
    }
    const current = (await (await fetch(`${on(2)}/api/me/tasks/${id as string}`, { headers })).json()) as { title: string, version: number }
    t.same(seen.get(id as string), { title: current.title, version: current.version }, 'what sync holds is the task as it is')
    const after = (await (await fetch(`${on(1)}/api/me/sync?since=${encodeURIComponent(token)}`, { headers })).json()) as SyncPage
    t.same(after.tasks, [], 'nothing after the last token')
  })

  t.test('an event written through one process reaches the user\'s streams on all three', async (t) => {
    const headers = bearer(tokenFor(newUserId('fan-out')))
    const streams = await Promise.all([0, 1, 2].map(async (i) => await openStream(on(i), headers)))
    t.teardown(() => { for (const stream of streams) stream.close() })
    t.same(streams.map((stream) => stream.status), [200, 200, 200])
    await Promise.all(streams.map(async (stream) => { await stream.until((_events, text) => text.startsWith('retry:')) }))
    const created = await fetch(`${on(1)}/api/me/tasks`, { method: 'POST', headers: { ...headers, ...json }, body: JSON.stringify({ title: 'to every process' }) })
    t.equal(created.status, 201)
    const written = Date.now()
    await Promise.all(streams.map(async (stream) => { await stream.until((events) => events.some((event) => event.type === 'task.created'), 3_000) }))
    t.ok(Date.now() - written < 1_000, `on all three within ${Date.now() - written} ms`)
  })
})
