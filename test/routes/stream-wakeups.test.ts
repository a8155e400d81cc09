/**
 * Stream wake-ups after the commit (src/events/wakeups.ts,
 * db/migrations/202611290400_stream_wakeups_after_commit.ts): a write the service sends as a
 * user does not notify from its own transaction (which would hold PostgreSQL's notification
 * lock until its commit is on disk); the service notifies `<newest event>:<user>` once the
 * write has committed, only for users with an open stream, and never for a refused write.
 * A write made outside the service's user seam still notifies from its transaction, and a
 * wake-up that never came (the writer died after its commit) costs a stream a heartbeat.
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import * as events from '../../src/repositories/events.js'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { sharedDb, sharedServiceDatabase, sharedUrl } from '../helpers/database.js'
import { openStream, streamsRegistered } from '../helpers/event-stream.js'
import { createTask, newUser } from '../helpers/factories.js'
import { eventually, sleep } from '../helpers/waiting.js'

t.test('stream wake-ups are sent after the commit', async (t) => {
  const app = await buildTestApp(t)
  const owner = sharedDb(t)
  const service = sharedServiceDatabase(t)
  const listener = new pg.Client({ connectionString: sharedUrl() })
  await listener.connect()
  t.teardown(async () => { await listener.end() })
  const heard: string[] = []
  listener.on('notification', (message) => { if (message.channel === 'todo_events') heard.push(message.payload ?? '') })
  await listener.query('LISTEN todo_events')

  const watched = newUser('watched')
  const unwatched = newUser('unwatched')
  const task = await createTask(t, app, watched, { title: 'Watched' })
  const other = await createTask(t, app, unwatched, { title: 'Not watched' })
  // The creations' own wake-ups go out 50 ms after them (events/wakeups.ts) and notify the
  // user's newest event *when they run*: one still on its way could name the event of the
  // first test's transaction and pass for a notification of its commit. Out before the stream
  // is registered, they find nobody to wake.
  await sleep(300)
  // An open stream of the watched user, as a process registers it (routes/events.ts).
  await owner.insertInto('event_streams').values({ user_id: watched.id, id: randomUUID(), expires_at: sql<string>`now() + interval '1 minute'` }).execute()
  const newest = async (userId: string): Promise<string> => (await events.latestSeq(service.forUser(userId), userId))
  const forUser = (userId: string): string[] => heard.filter((payload) => payload.endsWith(`:${userId}`))

  t.test('a write through the user seam does not notify from its transaction', async (t) => {
    const before = await newest(watched.id)
    await service.forUser(watched.id).transaction().execute(async (trx) => {
      // A change is recorded (its event written) when the version moves, as the service's writes do.
      await trx.updateTable('tasks').set({ title: 'Renamed inside a transaction', version: sql<number>`version + 1` }).where('user_id', '=', watched.id).where('id', '=', task.id as string).execute()
    })
    const seq = await newest(watched.id)
    t.ok(BigInt(seq) > BigInt(before), 'the change wrote its event')
    await sleep(300)
    t.notOk(heard.includes(`${seq}:${watched.id}`), 'nothing was notified by the commit itself')
  })

  t.test('a write outside the user seam still notifies from its transaction', async (t) => {
    await owner.updateTable('tasks').set({ title: 'Renamed by hand', version: sql<number>`version + 1` }).where('user_id', '=', watched.id).where('id', '=', task.id as string).execute()
    const seq = await newest(watched.id)
    await eventually('the owner\'s write notified', async () => forUser(watched.id), (payloads) => payloads.includes(`${seq}:${watched.id}`))
  })

  t.test('a write request notifies the newest event once it has committed', async (t) => {
    const response = await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${task.id as string}`, headers: watched.headers, payload: { title: 'Renamed by request' } })
    t.equal(response.statusCode, 200)
    const seq = await newest(watched.id)
    await eventually('the request\'s write notified', async () => forUser(watched.id), (payloads) => payloads.includes(`${seq}:${watched.id}`))
  })

  t.test('a refused write and a user without a stream notify nothing', async (t) => {
    const before = forUser(watched.id).length
    const refused = await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${task.id as string}`, headers: { ...watched.headers, 'if-match': '"999"' }, payload: { title: 'Refused' } })
    t.equal(refused.statusCode, 412)
    const unwatchedWrite = await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${other.id as string}`, headers: unwatched.headers, payload: { title: 'Renamed unwatched' } })
    t.equal(unwatchedWrite.statusCode, 200)
    // A later write of the watched user: once its notification is heard, the others would have been.
    await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${task.id as string}`, headers: watched.headers, payload: { title: 'Renamed last' } })
    const seq = await newest(watched.id)
    await eventually('the last write notified', async () => forUser(watched.id), (payloads) => payloads.includes(`${seq}:${watched.id}`))
    t.equal(forUser(watched.id).length, before + 1, 'the refused write notified nothing')
    t.same(forUser(unwatched.id), [], 'a user without a stream is never notified')
  })
})

t.test('a wake-up that never came delays an event by a heartbeat at most', async (t) => {
  // The event hub listens on DATABASE_URL: the shared database the app works on.
  const app = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl(), EVENTS_HEARTBEAT_MS: '400' } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const service = sharedServiceDatabase(t)
  const user = newUser('unwoken')
  const task = await createTask(t, app, user, { title: 'Before the stream' })
  const stream = await openStream(baseUrl, user.headers)
  t.teardown(() => { stream.close() })
  t.equal(stream.status, 200)
  await streamsRegistered(sharedDb(t), user.id, 1)
  // Written through the user seam, as a request would be, but nobody calls wakeStreams: as if
  // the writing process had died right after its commit.
  await service.forUser(user.id).transaction().execute(async (trx) => {
    await trx.updateTable('tasks').set({ title: 'Changed with no wake-up', version: sql<number>`version + 1` }).where('user_id', '=', user.id).where('id', '=', task.id as string).execute()
  })
  await stream.until((received) => received.some((event) => event.type === 'task.updated' && (event.data as { title?: string }).title === 'Changed with no wake-up'), 3_000)
  t.pass('the stream looked again at its heartbeat and sent the event')
})
