/**
 * Event stream registrations (event_streams rows: they bound a user's streams across processes
 * and tell writers whom to wake) are kept alive by the event hub (src/events/hub.ts), one
 * statement per user every third of their lapse, for as long as the streams are open; a
 * registration swept meanwhile is put back and its streams look again; a closed stream's
 * registration is gone for good, and so is that of a stream whose client left while it was
 * being opened.
 */
import { get as httpGet } from 'node:http'
import { sql } from 'kysely'
import { GATHER_MS as FEED_GATHER_MS } from '../../src/events/feed-reads.js'
import * as events from '../../src/repositories/events.js'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { sharedDb, sharedServiceDatabase, sharedUrl } from '../helpers/database.js'
import { openStream, streamsRegistered } from '../helpers/event-stream.js'
import { createTask, newUser } from '../helpers/factories.js'
import { eventually, sleep } from '../helpers/waiting.js'

/** Lapse of a registration in these tests: renewed every second. */
const TTL_SECONDS = 3

t.test('stream registrations', async (t) => {
  // A heartbeat far longer than the test: only a renewal can make a stream look again here.
  const app = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl(), EVENTS_HEARTBEAT_MS: '15000' }, streamRegistrationTtlSeconds: TTL_SECONDS })
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })
  const owner = sharedDb(t)
  /** Statements waiting for a user's change counter (a stream's opening takes it). */
  const waitingOnLocks = async (): Promise<number> => (await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE '%lock_change_counter%'`.execute(owner)).rows[0]?.n ?? 0
  const live = async (userId: string): Promise<number> => (await owner.selectFrom('event_streams').select('id')
    .where('user_id', '=', userId).where('expires_at', '>', sql<string>`now()`).execute()).length

  t.test('stay alive past their lapse while the streams are open', async (t) => {
    const user = newUser('long-lived')
    const streams = await Promise.all([openStream(baseUrl, user.headers), openStream(baseUrl, user.headers)])
    t.teardown(() => { for (const stream of streams) stream.close() })
    await streamsRegistered(owner, user.id, 2)
    await sleep((TTL_SECONDS + 1.5) * 1000)
    t.equal(await live(user.id), 2, `both registrations are live ${TTL_SECONDS + 1.5} s after opening (lapse ${TTL_SECONDS} s)`)
  })

  t.test('a registration swept while its stream is open is put back, and the stream looks again', async (t) => {
    const user = newUser('swept')
    const task = await createTask(t, app, user, { title: 'Before' })
    const stream = await openStream(baseUrl, user.headers)
    t.teardown(stream.close)
    await streamsRegistered(owner, user.id, 1)
    // A change delivered first: the stream's first read of the log is done (it may come up to
    // a gathering later, events/feed-reads.ts, and would otherwise bring what follows).
    await inject(t, app, { method: 'PATCH', url: `/api/me/tasks/${task.id as string}`, headers: user.headers, payload: { title: 'Seen' } })
    await stream.until((events) => events.some((event) => (event.data as { title?: string }).title === 'Seen'), 3_000)
    // A read of the feed may still be under way: when the change's wake-up came during the
    // stream's first read, the feed reads once more (a gathering and a round trip later), and
    // that read, landing after the transaction below, would bring its change without any
    // renewal. Twenty gatherings let it finish; a renewal comes only every second.
    await sleep(20 * FEED_GATHER_MS)
    // In one transaction: the registration swept (as the retention job sweeps one it believes
    // lapsed) and a change nobody wakes the stream for (written through the user seam, as a
    // request is, but with no wake-up). With a 15 s heartbeat, only the renewal's look-again,
    // which finds the registration gone, can bring the change.
    await sharedServiceDatabase(t).forUser(user.id).transaction().execute(async (trx) => {
      await trx.deleteFrom('event_streams').where('user_id', '=', user.id).execute()
      await trx.updateTable('tasks').set({ title: 'While unregistered', version: sql<number>`version + 1` })
        .where('user_id', '=', user.id).where('id', '=', task.id as string).execute()
    })
    await stream.until((events) => events.some((event) => (event.data as { title?: string }).title === 'While unregistered'), 3_000)
    t.equal(await live(user.id), 1, 'the registration is back')
  })

  t.test('a client gone while its stream was being opened leaves no registration behind', async (t) => {
    const user = newUser('gone-early')
    await createTask(t, app, user, { title: 'A change counter to hold' })
    // Opening a stream takes the user's change counter: held here, the opening waits.
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    let locked: () => void = () => {}
    const isLocked = new Promise<void>((resolve) => { locked = resolve })
    const holding = sharedServiceDatabase(t).forUser(user.id).transaction().execute(async (trx) => {
      await events.lockChangeCounter(trx, user.id)
      locked()
      await held
    })
    await isLocked
    const request = httpGet(`${baseUrl}/api/me/events`, { headers: user.headers })
    request.on('error', () => {})
    await eventually('the opening waits for the counter', async () => await waitingOnLocks(), (waiting) => waiting > 0)
    request.destroy()
    await sleep(200)
    release()
    await holding
    await sleep((TTL_SECONDS + 1.5) * 1000)
    t.equal(await live(user.id), 0, `no live registration ${TTL_SECONDS + 1.5} s later (lapse ${TTL_SECONDS} s): the stream ended and nothing renews it`)
  })

  t.test('a closed stream\'s registration is not put back by a renewal', async (t) => {
    const user = newUser('closed')
    const staying = await openStream(baseUrl, user.headers)
    t.teardown(staying.close)
    const leaving = await openStream(baseUrl, user.headers)
    await streamsRegistered(owner, user.id, 2)
    leaving.close()
    await streamsRegistered(owner, user.id, 1)
    // Two renewals of the user's remaining stream.
    await sleep(2_500)
    t.equal((await owner.selectFrom('event_streams').select('id').where('user_id', '=', user.id).execute()).length, 1, 'only the open stream is registered')
  })
})
