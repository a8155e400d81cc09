/**
 * A large account (API.md part two, "Account"): a 100,000-task account exports through a real
 * server as one snapshot, streamed: a client that stops reading stops the reading of pages
 * (so the process holds a page, not the account), and the RSS of this process, which is both
 * server and client, grows far less than a document built in memory would take (the export's
 * bound is loose on purpose: RSS moves with the garbage collector's timing and differs between
 * Node lines, so the back-pressure check is the exact one); a client that goes away mid-export gives the connection back;
 * the export's own document (about 40 MB, under the default IMPORT_MAX_BYTES) is parsed,
 * validated and checked as an import body in acceptable time. (Writing 100,000 tasks, with
 * their events, takes about as long as the fixture's insert: not repeated here.)
 */
import { createWriteStream } from 'node:fs'
import { get } from 'node:http'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { finished } from 'node:stream/promises'
import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedDb } from '../helpers/database.js'
import { newUser } from '../helpers/factories.js'

const TASKS = 100_000
const MB = 1024 * 1024

t.setTimeout(300_000)

t.test('a 100,000-task account', async (t) => {
  const app = await buildTestApp(t)
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  const db = sharedDb(t)
  const user = newUser()
  const folder = await mkdtemp(path.join(tmpdir(), 'todo-export-'))
  t.teardown(async () => { await rm(folder, { recursive: true, force: true }) })
  t.equal((await fetch(`${baseUrl}/api/me`, { headers: user.headers })).status, 200)
  // One statement: tasks of every shape the export writes (descriptions, tags, reminders, trash).
  // With the triggers off (session_replication_role = replica, as the owner): 100,000 events,
  // reminder checks and change numbers would make the fixture most of this file's minutes. The
  // change numbers its triggers would give are set here, and the user's counter moved past them,
  // so the requests below number their changes after these.
  await db.transaction().execute(async (trx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(trx)
    await sql`
      INSERT INTO tasks (user_id, title, description, position, tags, reminders, deleted_at, completed, completed_at, change_seq)
      SELECT ${user.id}, 'Task number ' || n, CASE WHEN n % 10 = 0 THEN 'A description of task ' || n END,
             'a' || lpad(n::text, 6, '0'), ARRAY['tag' || (n % 10)],
             CASE WHEN n % 100 = 0 THEN '[{"at": "2020-01-01T00:00:00.000Z"}]'::jsonb ELSE '[]'::jsonb END,
             CASE WHEN n % 50 = 0 THEN now() END, n % 3 = 0, CASE WHEN n % 3 = 0 THEN now() END,
             coalesce((SELECT seq FROM change_counters WHERE user_id = ${user.id}), 0) + n
      FROM generate_series(1, ${TASKS}) AS n
    `.execute(trx)
    await sql`
      INSERT INTO change_counters (user_id, seq) VALUES (${user.id}, ${TASKS})
      ON CONFLICT (user_id) DO UPDATE SET seq = change_counters.seq + ${TASKS}
    `.execute(trx)
  })

  t.test('exports as one snapshot, streamed', async (t) => {
    // Warm up (code paths, pools, caches), then measure from a settled baseline.
    const warm = await fetch(`${baseUrl}/api/me/export`, { headers: newUser().headers })
    await warm.arrayBuffer()
    const baseline = process.memoryUsage().rss
    let peak = baseline
    const sample = (): void => { peak = Math.max(peak, process.memoryUsage().rss) }
    const timer = setInterval(sample, 20)

    const file = path.join(folder, 'export.json')
    const out = createWriteStream(file)
    const response = await fetch(`${baseUrl}/api/me/export`, { headers: user.headers })
    t.equal(response.status, 200)
    t.match(response.headers.get('content-disposition'), /^attachment; filename="todo-export-\d{4}-\d{2}-\d{2}\.json"$/)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let received = 0
    let written = false
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      received += value.length
      if (!out.write(value)) await new Promise<void>((resolve) => { out.once('drain', () => { resolve() }) })
      sample()
      if (!written && received > MB) {
        // Written after the export began: not in its snapshot (an id after every other, so
        // the pages still to read would reach it).
        written = true
        await sql`INSERT INTO tasks (user_id, id, title, position) VALUES (${user.id}, 'ffffffff-ffff-4fff-bfff-ffffffffffff', 'Too late', 'zz')`.execute(db)
        await sql`UPDATE tasks SET title = 'Changed meanwhile', version = version + 1 WHERE user_id = ${user.id} AND position = 'a099999'`.execute(db)
      }
    }
    out.end()
    await finished(out)
    clearInterval(timer)
    sample()
    const growth = (peak - baseline) / MB
    t.ok(written, 'a change was made while the export was being read')
    // A backstop only: the document built in memory would take its own size again as a string
    // plus its 100,000 rows as objects, several times this bound. (Measured: 20-53 MB.)
    t.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MB for a ${((await stat(file)).size / MB).toFixed(1)} MB export (bound 100 MB)`)

    const document = JSON.parse(await readFile(file, 'utf8')) as { tasks: Array<{ id: string, title: string, deleted_at: string | null, category_id: string | null }> }
    t.equal(document.tasks.length, TASKS, 'every task, exactly')
    t.notOk(document.tasks.some((task) => task.id === 'ffffffff-ffff-4fff-bfff-ffffffffffff'), 'a task written after the start is not in it')
    t.notOk(document.tasks.some((task) => task.title === 'Changed meanwhile'), 'a change made after the start is not in it')
    t.equal(document.tasks.filter((task) => task.deleted_at !== null).length, TASKS / 50, 'the trash included')

    t.test('its document parses and validates as an import body in acceptable time', async (t) => {
      const body = await readFile(file)
      t.ok(body.length < 50 * MB, `the document is ${(body.length / MB).toFixed(1)} MB, under the default IMPORT_MAX_BYTES`)
      // One reference broken at the end: the whole body is parsed, validated against
      // AccountExport and checked, then refused (422) before anything is written.
      const last = document.tasks[TASKS - 1] as { category_id: string | null }
      last.category_id = 'eeeeeeee-eeee-4eee-beee-eeeeeeeeeeee'
      const started = Date.now()
      const refused = await fetch(`${baseUrl}/api/me/import`, { method: 'POST', headers: { ...newUser().headers, 'content-type': 'application/json' }, body: JSON.stringify(document) })
      const elapsed = Date.now() - started
      t.equal(refused.status, 422)
      t.same(((await refused.json()) as { errors: unknown }).errors, [{ pointer: `/tasks/${TASKS - 1}/category_id`, detail: 'is not a category of this document' }])
      t.ok(elapsed < 20_000, `parsed, validated and checked in ${elapsed} ms`)
    })
  })

  t.test('a client that stops reading stops the reading of pages', async (t) => {
    // A plain socket that reads the first chunk, then pauses: the kernel's buffers fill, the
    // server's writes wait, and the export must stop asking the database for pages. Its
    // session then stays idle in its transaction, its last statement unchanged, for as long as
    // the client waits; an export that read the whole account ahead of the client would have
    // ended its transaction instead.
    const request = get(`${baseUrl}/api/me/export`, { headers: user.headers, agent: false })
    t.teardown(() => { request.destroy() })
    await new Promise<void>((resolve, reject) => {
      request.on('response', (response) => { response.once('data', () => { response.pause(); resolve() }) })
      request.on('error', reject)
    })
    const exportSession = async (): Promise<{ state: string, changed: string } | undefined> => {
      const { rows } = await sql<{ state: string, changed: string }>`
        SELECT state, state_change::text AS changed FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%from "tasks"%order by "id"%' AND xact_start IS NOT NULL
      `.execute(db)
      return rows[0]
    }
    const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
    // The socket buffers take a few pages first; wait until the session settles.
    let before = await exportSession()
    for (let tries = 0; tries < 50; tries++) {
      await sleep(200)
      const now = await exportSession()
      if (now?.changed === before?.changed) break
      before = now
    }
    t.equal(before?.state, 'idle in transaction', 'the export waits, its transaction open')
    await sleep(1_500)
    const after = await exportSession()
    t.same(after, before, 'no page read while the client does not read')
    request.destroy()
  })

  t.test('a client that goes away mid-export gives the connection back', async (t) => {
    // A plain socket, dropped after the first chunk (fetch's abort left its connection to the
    // server open until the server's timeouts, which a closing server then waits for).
    await new Promise<void>((resolve, reject) => {
      const request = get(`${baseUrl}/api/me/export`, { headers: user.headers, agent: false }, (response) => {
        response.once('data', () => { request.destroy(); resolve() })
      })
      request.on('error', (error) => { if (!request.destroyed) reject(error) })
    })
    // The export's transaction ends: no session of this database stays idle in a transaction
    // that read the tasks page by page.
    const deadline = Date.now() + 5_000
    let open = -1
    while (Date.now() < deadline) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::integer AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND query LIKE '%from "tasks"%order by "id"%'
      `.execute(db)
      open = rows[0]?.n ?? 0
      if (open === 0) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.equal(open, 0, 'the export\'s transaction ended')
    const again = await fetch(`${baseUrl}/api/me`, { headers: user.headers })
    t.equal(again.status, 200, 'the service still answers')
  })
})
