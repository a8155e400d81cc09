/**
 * Wakes a user's event streams, in every process, once a write of theirs has committed:
 * decorates the instance with `wakeStreams(userId)`, called for every write request that may
 * have changed something (any non-GET answered 2xx/3xx or 5xx, as its answer is sent: in
 * `onSend`, which runs whether or not the client is still there, unlike `onResponse`) and by
 * the jobs that write events (reminders). A batch's parts do not wake: their transaction is
 * the batch's, which wakes once it has committed.
 *
 * Why after the commit and not from the writing transaction, as a NOTIFY inside it would: a
 * transaction that notifies holds PostgreSQL's notification queue lock from before its commit
 * until its commit record is on disk, so the writes of users with open streams committed one
 * after the other (docs/benchmarks.md, "Event streams without the notifying writes"). Here a
 * write commits like any other; the streams of its user in this process are woken at once
 * (eventHub.changed), and the other processes by one short `wake_event_streams(users)` call
 * (db/migrations/202611290400_stream_wakeups_after_commit.ts) sent GATHER_MS after the first
 * wake-up it carries (or after the call before it ends), carrying every user woken by then:
 * the notifying transactions are few and hold the lock only for themselves.
 *
 * What this gives up: a process that dies between a write's commit and its wake-up (a window
 * of a round trip) leaves that change unannounced to the other processes' streams until their
 * next look: each user's feed looks again at a stream's heartbeat (user-feed.ts, `recheck`).
 * The change and its event are stored either way. A wake-up the database refuses is logged and
 * dropped, for the same reason: it is only ever a "look again".
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { sql } from 'kysely'

declare module 'fastify' {
  interface FastifyInstance {
    /** A write of the user committed: their streams here and in every process look again. */
    wakeStreams: (userId: string) => void
  }
}

/** Users named in one call (a bound parameter of text; the rest wait for the next call). */
const MAX_USERS_PER_CALL = 1_000

/**
 * How long a wake-up waits for others to share its call, counted from the first one after the
 * previous call: under steady writes, one notifying transaction per 50 ms and round trip
 * instead of one per write, for at most 50 ms and a round trip more on the way to the other
 * processes' streams (this process's are woken at once). 50 rather than 20: the streams' cost
 * to the rest of the load fell with fewer calls (docs/benchmarks.md, "Event streams: fewer
 * wake-up calls and log reads"), and delivery stays far inside its 1-second
 * promise across processes.
 */
const GATHER_MS = 50

/** Methods that never change anything: their requests wake nobody. */
const READING_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const streamWakeups: FastifyPluginAsync = async (app) => {
  const pending = new Set<string>()
  let sending: Promise<void> | undefined
  let gathering: NodeJS.Timeout | undefined
  let closing = false

  /** One call; a full one is followed by the next at once (the rest wait for the next gathering). */
  async function send (): Promise<void> {
    for (let full = true; full && pending.size > 0;) {
      const users: string[] = []
      for (const user of pending) {
        users.push(user)
        pending.delete(user)
        if (users.length === MAX_USERS_PER_CALL) break
      }
      full = users.length === MAX_USERS_PER_CALL
      try {
        // Writes nothing: without a transaction id it has no commit record to wait for on
        // disk (PostgreSQL's WAL syncs do not move however many such calls are made).
        await sql`SELECT wake_event_streams(${users}::text[])`.execute(app.database.db)
      } catch (error) {
        app.log.warn({ err: error, users: users.length }, 'event stream wake-up not sent; those streams see the change at their next wake-up')
      }
    }
  }

  /** One call at a time, GATHER_MS after the first wake-up it carries; what is woken during a call waits for the next. */
  function kick (): void {
    if (sending !== undefined || gathering !== undefined || pending.size === 0) return
    if (closing) { flush(); return }
    gathering = setTimeout(() => { gathering = undefined; flush() }, GATHER_MS)
  }

  function flush (): void {
    if (sending !== undefined || pending.size === 0) return
    sending = send().finally(() => {
      sending = undefined
      kick()
    })
  }

  app.decorate('wakeStreams', (userId: string) => {
    app.eventHub.changed(userId)
    pending.add(userId)
    kick()
  })

  app.addHook('onSend', async (request, reply, payload) => {
    // Set by the auth plugin; null on unauthenticated routes and refused tokens.
    const userId = (request.user as { id: string } | null)?.id
    // A refusal (4xx) changed nothing; a 5xx may have come after a commit.
    const changing = userId !== undefined && !READING_METHODS.has(request.method) && request.batchPart === null &&
      (reply.statusCode < 400 || reply.statusCode >= 500)
    if (changing) app.wakeStreams(userId)
    return payload
  })

  // Wake-ups still on their way go out before the pool closes (a call may start another).
  app.addHook('onClose', async () => {
    closing = true
    if (gathering !== undefined) { clearTimeout(gathering); gathering = undefined; flush() }
    for (let running = sending; running !== undefined; running = sending) await running
  })
}

export default fp(streamWakeups, { name: 'stream-wakeups', dependencies: ['database', 'event-hub'] })
