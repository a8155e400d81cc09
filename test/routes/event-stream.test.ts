/**
 * The event stream (API.md part two, "Events", Stream), over a real port: server-sent events
 * with `retry:` first, each event as id/event/data, comment lines while quiet, resumption with
 * Last-Event-ID without gap or duplicate, 400/410/429, the token in the header only, and a
 * clean end when the service closes.
 */
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { createTodoClient, subscribe } from 'todo-contract/client'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedDb, sharedUrl } from '../helpers/database.js'
import { type OpenedStream, openStream, streamsRegistered } from '../helpers/event-stream.js'
import { createTask, newUser } from '../helpers/factories.js'
import { tokenFor } from '../helpers/tokens.js'

async function listening (t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, baseUrl: string }> {
  const app = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl(), ...env } })
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, baseUrl }
}

t.test('streamEvents', async (t) => {
  const { app, baseUrl } = await listening(t, { EVENTS_HEARTBEAT_MS: '300', EVENTS_MAX_STREAMS_PER_USER: '3' })

  t.test('starts with retry:, then sends each change as id, event and data', async (t) => {
    const user = newUser()
    const stream = await openStream(baseUrl, user.headers)
    t.teardown(stream.close)
    t.equal(stream.status, 200)
    t.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    t.equal(stream.headers.get('transfer-encoding'), null, 'the body ends with the connection, without chunked framing')
    await stream.until((_events, text) => text.length > 0)
    t.match(stream.text(), /^retry: \d+\n\n/, 'retry: is the first line')
    const task = await createTask(t, app, user, { title: 'Streamed' })
    await stream.until((events) => events.length === 1, 1_000)
    const [event] = stream.events()
    t.match(event, { type: 'task.created', data: task }, 'the whole event, data as the API answered')
    t.match(event?.id, /^[0-9]{20}$/)
    t.match(stream.text(), new RegExp(`\\nid: ${event?.id ?? ''}\\nevent: task\\.created\\ndata: \\{`), 'id, event and data lines')
  })

  t.test('HEAD answers the stream\'s headers and opens no stream', async (t) => {
    const user = newUser()
    const response = await fetch(`${baseUrl}/api/me/events`, { method: 'HEAD', headers: user.headers })
    t.equal(response.status, 200)
    t.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const registered = await sharedDb(t).selectFrom('event_streams').select('id').where('user_id', '=', user.id).execute()
    t.same(registered, [], 'no registration counts against the user\'s streams')
  })

  t.test('keeps a quiet stream open with comment lines', async (t) => {
    const user = newUser()
    const stream = await openStream(baseUrl, user.headers)
    t.teardown(stream.close)
    await stream.until((_events, text) => /\n: /.test(text) || text.startsWith(': '), 3_000)
    t.pass('a comment line came while nothing happened')
  })

  t.test('shows only the caller\'s events', async (t) => {
    const user = newUser()
    const other = newUser()
    const stream = await openStream(baseUrl, user.headers)
    t.teardown(stream.close)
    await createTask(t, app, other, { title: 'Not yours' })
    const mine = await createTask(t, app, user, { title: 'Yours' })
    await stream.until((events) => events.length >= 1, 1_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.same(stream.events().map((event) => (event.data as { id: string }).id), [mine.id])
  })

  t.test('resumes after Last-Event-ID: nothing missed, nothing twice', async (t) => {
    const user = newUser()
    const first = await openStream(baseUrl, user.headers)
    for (let i = 0; i < 3; i++) await createTask(t, app, user, { title: `before ${i}` })
    await first.until((events) => events.length === 3, 2_000)
    first.close()
    const last = first.events()[2]?.id as string
    const missed = []
    for (let i = 0; i < 2; i++) missed.push(await createTask(t, app, user, { title: `while away ${i}` }))
    const resumed = await openStream(baseUrl, { ...user.headers, 'last-event-id': last })
    t.teardown(resumed.close)
    t.equal(resumed.status, 200)
    await resumed.until((events) => events.length === 2, 2_000)
    t.same(resumed.events().map((event) => (event.data as { title: string }).title), ['while away 0', 'while away 1'], 'exactly the events after it')
    const live = await createTask(t, app, user, { title: 'live' })
    await resumed.until((events) => events.length === 3, 1_000)
    t.equal((resumed.events()[2]?.data as { id: string }).id, live.id, 'then live')
  })

  t.test('a user\'s streams at different positions each get every event after their own, once and in order', async (t) => {
    const user = newUser()
    const titles = (stream: OpenedStream): string[] => stream.events().map((event) => (event.data as { title: string }).title)
    // Two opened together: the first event wakes both while one read is in flight.
    const [live, twin] = await Promise.all([openStream(baseUrl, user.headers), openStream(baseUrl, user.headers)]) as [OpenedStream, OpenedStream]
    t.teardown(live.close)
    t.teardown(twin.close)
    for (let i = 0; i < 3; i++) await createTask(t, app, user, { title: `early ${i}` })
    await live.until((events) => events.length === 3, 2_000)
    await twin.until((events) => events.length === 3, 2_000)
    t.same(titles(twin), ['early 0', 'early 1', 'early 2'], 'both streams opened together have every event')
    twin.close()
    const behind = await openStream(baseUrl, { ...user.headers, 'last-event-id': live.events()[0]?.id as string })
    t.teardown(behind.close)
    // More changes than a process keeps for a user's streams, while both streams read.
    const burst = []
    for (let i = 0; i < 100; i++) {
      burst.push(`burst ${i}`)
      await createTask(t, app, user, { title: `burst ${i}` })
    }
    const late = await openStream(baseUrl, user.headers)
    t.teardown(late.close)
    await live.until((events) => events.length === 103, 5_000)
    await createTask(t, app, user, { title: 'last' })
    await live.until((events) => events.length === 104, 2_000)
    await behind.until((events) => events.length === 103, 2_000)
    await late.until((events) => events.length === 1, 2_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.same(titles(live), ['early 0', 'early 1', 'early 2', ...burst, 'last'])
    t.same(titles(behind), ['early 1', 'early 2', ...burst, 'last'], 'resumed behind the others')
    t.same(titles(late), ['last'], 'opened after the burst')
  })

  t.test('an empty Last-Event-ID counts as absent', async (t) => {
    const user = newUser()
    await createTask(t, app, user)
    const stream = await openStream(baseUrl, { ...user.headers, 'last-event-id': '' })
    t.teardown(stream.close)
    t.equal(stream.status, 200)
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.same(stream.events(), [], 'starts at the present')
  })

  t.test('a malformed Last-Event-ID, or one newer than the newest event, is 400 naming the header', async (t) => {
    const user = newUser()
    await createTask(t, app, user)
    for (const value of ['abc', '42', '99999999999999999999']) {
      const stream = await openStream(baseUrl, { ...user.headers, 'last-event-id': value })
      t.equal(stream.status, 400, `Last-Event-ID: ${value}`)
      t.match(stream.body, { type: 'urn:todo-contract:problem:validation-failed', errors: [{ header: /^last-event-id$/i }] })
    }
  })

  t.test('one older than the events kept is 410', async (t) => {
    const user = newUser()
    const stream = await openStream(baseUrl, user.headers)
    for (let i = 0; i < 3; i++) await createTask(t, app, user)
    await stream.until((events) => events.length === 3, 2_000)
    stream.close()
    // The first two events expire (as SYNC_RETENTION_DAYS would have them do).
    const [oldest, second] = stream.events()
    await sharedDb(t).deleteFrom('events').where('user_id', '=', user.id).where('seq', '<=', BigInt(second?.id as string).toString()).execute()
    const gone = await openStream(baseUrl, { ...user.headers, 'last-event-id': oldest?.id as string })
    t.equal(gone.status, 410)
    t.match(gone.body, { type: 'urn:todo-contract:problem:events-gone', errors: [{ header: 'Last-Event-ID' }] })
    const fine = await openStream(baseUrl, { ...user.headers, 'last-event-id': second?.id as string })
    t.equal(fine.status, 200, 'right after the last one gone: nothing is missing')
    fine.close()
  })

  t.test('at most EVENTS_MAX_STREAMS_PER_USER streams at once: one more is 429', async (t) => {
    const user = newUser()
    const open = await Promise.all([1, 2, 3].map(async () => await openStream(baseUrl, user.headers)))
    t.same(open.map((stream) => stream.status), [200, 200, 200])
    const extra = await openStream(baseUrl, user.headers)
    t.equal(extra.status, 429)
    t.match(extra.body, { type: 'urn:todo-contract:problem:rate-limited' })
    open[0]?.close()
    await streamsRegistered(sharedDb(t), user.id, 2)
    const again = await openStream(baseUrl, user.headers)
    t.equal(again.status, 200, 'a closed stream frees its place')
    for (const stream of [...open, again]) stream.close()
    const other = await openStream(baseUrl, newUser().headers)
    t.equal(other.status, 200, 'another user is not limited by it')
    other.close()
  })

  t.test('the SDK\'s subscribe reconnects with Last-Event-ID when the stream ends: nothing missed, nothing twice', async (t) => {
    const user = newUser()
    const stop = new AbortController()
    const seen: string[] = []
    const subscription = subscribe(createTodoClient({ baseUrl, token: tokenFor(user.id) }), { onEvent: (event) => { seen.push((event.data as { title: string }).title) }, signal: stop.signal, retryMs: 100 })
    await streamsRegistered(sharedDb(t), user.id, 1)
    await createTask(t, app, user, { title: 'one' })
    const until = async (n: number): Promise<void> => {
      const deadline = Date.now() + 5_000
      while (seen.length < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await until(1)
    // The service ends every stream (as a restart would); two changes land before the reconnection.
    const ended = app.eventHub.closeAll(1_000)
    await createTask(t, app, user, { title: 'two' })
    await createTask(t, app, user, { title: 'three' })
    await ended
    await until(3)
    await createTask(t, app, user, { title: 'four' })
    await until(4)
    stop.abort()
    await subscription
    t.same(seen, ['one', 'two', 'three', 'four'])
  })

  t.test('only the Authorization header authenticates', async (t) => {
    const user = newUser()
    const stream = await openStream(baseUrl, {}, `/api/me/events?access_token=${tokenFor(user.id)}`)
    t.equal(stream.status, 401)
  })
})

t.test('streams end cleanly when the service closes', async (t) => {
  const { app, baseUrl } = await listening(t)
  const user = newUser()
  const stream = await openStream(baseUrl, user.headers)
  t.equal(stream.status, 200)
  await stream.until((_events, text) => text.length > 0)
  const started = Date.now()
  await app.close()
  await stream.ended
  t.ok(Date.now() - started < 5_000, 'closing did not wait for the stream to time out')
})
