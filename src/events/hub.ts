/**
 * The fan-out of the event log to this process's open streams: decorates the instance with
 * `eventHub`. One dedicated connection LISTENs on `todo_events`, where `<newest event
 * number>:<user id>` is notified for a user with an open stream once a write of theirs has
 * committed (events/wakeups.ts; a write made outside the service notifies from its own
 * transaction, db/migrations/202611290400_stream_wakeups_after_commit.ts); the hub tells that user's
 * feed (user-feed.ts: one log read per change for all the user's streams here, gathered with
 * other users' reads into one statement by feed-reads.ts), which hands what it reads to the
 * streams parked in it (those waiting with everything sent); the others are woken and take
 * what follows their position. A notification only says "look again",
 * so a lost one costs only time: after the listener reconnects every feed looks again, and
 * each feed looks again at its streams' heartbeat anyway (user-feed.ts, `recheck`).
 * PostgreSQL LISTEN/NOTIFY rather than Redis: it needs no second server, and every process of
 * the service already has the database.
 * `closeAll()` (run before the server closes) ends every stream cleanly.
 * The hub also keeps the streams' registrations (event_streams rows, which bound a user's
 * streams across processes and tell writers whom to wake) alive: one statement per user with
 * streams here every third of the registrations' lapse, not one per stream.
 * The same connection LISTENs on `todo_account_deleted`, which an account's deletion
 * notifies with the user's id when it commits (db/migrations/202611282200_account_deletion.ts):
 * that user's streams here end at once, and `onAccountDeleted` is told. The connection is
 * made when the instance is ready, whether or not a stream ever opens here.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { countOpenStreams } from '../metrics/signals.js'
import * as eventStreams from '../repositories/event-streams.js'
import * as events from '../repositories/events.js'
import { FeedReads } from './feed-reads.js'
import { type FramedEvent, framed } from './frames.js'
import { type FeedSubscriber, UserFeed } from './user-feed.js'

const EVENTS_CHANNEL = 'todo_events'
const ACCOUNT_DELETED_CHANNEL = 'todo_account_deleted'

export interface EventStreamHandle extends FeedSubscriber<FramedEvent> {
  /** The stream's registration (event_streams.id), renewed by the hub while the stream is subscribed. */
  id: string
  /**
   * Wakes the stream: something may have been written for its user (up to event `seq`, when
   * known). Not called while the stream is parked in its feed (user-feed.ts), which hands it
   * the rows its next read brings.
   */
  wake: (seq?: bigint) => void
  /** Ends the stream (shutdown). */
  end: () => void
}

export interface EventHub {
  /** Resolves once the listener is connected; rejects after `timeoutMs` without it. */
  ready: (timeoutMs: number) => Promise<void>
  /** How long a stream's registration lives without a renewal (a crashed process's lapse). */
  registrationTtlSeconds: number
  /**
   * Registers a stream; `feed` is its user's log as read here. `unsubscribe` ends that and
   * removes the stream's registration (after any renewal under way, which would put it back);
   * it never rejects (a registration not removed lapses by itself).
   */
  subscribe: (userId: string, stream: EventStreamHandle) => { feed: UserFeed<FramedEvent>, unsubscribe: () => Promise<void> }
  /**
   * A write of the user committed in this process: its streams here look at once, without
   * waiting for the notification (events/wakeups.ts sends that for the other processes).
   */
  changed: (userId: string) => void
  /** Ends every stream, and resolves once they have finished (or after `timeoutMs`). */
  closeAll: (timeoutMs: number) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    eventHub: EventHub
  }
}

export interface EventHubOptions {
  url: string
  /** Called with the id of a user whose account was deleted, by this process or another. */
  onAccountDeleted?: (userId: string) => void
  /** A stream registration's lapse without renewal (tests shorten it); 60 s by default. */
  registrationTtlSeconds?: number
}

interface Listeners {
  feed: UserFeed<FramedEvent>
  streams: Set<EventStreamHandle>
  /** Renews the streams' registrations every third of their lapse. */
  renewal: NodeJS.Timeout
  /** A renewal under way. */
  renewing: Promise<void> | undefined
  /** When the last renewal that succeeded began (performance.now()), or the first stream subscribed. */
  renewedAt: number
}

/** `<seq>:<user id>`: the number first, as a user id may itself hold a colon. */
function parsePayload (payload: string): { userId: string, seq: bigint } | undefined {
  const colon = payload.indexOf(':')
  if (colon < 1 || !/^\d+$/.test(payload.slice(0, colon))) return undefined
  return { userId: payload.slice(colon + 1), seq: BigInt(payload.slice(0, colon)) }
}

const RECONNECT_MS = [100, 500, 1_000, 2_000, 5_000]

/** Something committed for the user (up to `seq`, when known): their feed and streams here look again. */
function wakeUser ({ feed, streams }: Listeners, seq?: bigint): void {
  // The feed reads for its parked streams; the others' loops look for themselves.
  feed.announce(seq)
  for (const stream of streams) if (!feed.isParked(stream)) stream.wake(seq)
}

const eventHub: FastifyPluginAsync<EventHubOptions> = async (app, { url, onAccountDeleted, registrationTtlSeconds = 60 }) => {
  const users = new Map<string, Listeners>()
  /** Streams unsubscribed whose registrations are still being removed. */
  const departing = new Set<Promise<void>>()
  let shuttingDown = false
  countOpenStreams(app, () => { let open = 0; for (const { streams } of users.values()) open += streams.size; return open })
  let client: pg.Client | undefined
  let connected: Promise<void> | undefined
  /** A connection being made (closed with the instance, whose close cannot wait for a retry's timer). */
  let connecting: pg.Client | undefined
  let attempt = 0
  let closing = false

  // Every feed's reads, gathered into one statement for many users (feed-reads.ts).
  const feedReads = new FeedReads(async (reads) => await events.listAfterForFeeds(app.database.db, reads))

  const wakeAll = (): void => {
    for (const listeners of users.values()) wakeUser(listeners)
  }

  async function connect (): Promise<void> {
    if (closing) return
    const next = new pg.Client({ connectionString: url, application_name: 'todo-contract events' })
    connecting = next
    next.on('notification', (message) => {
      if (message.channel === ACCOUNT_DELETED_CHANNEL) {
        if (message.payload === undefined || message.payload === '') return
        accountDeleted(message.payload)
        return
      }
      const notified = message.payload === undefined ? undefined : parsePayload(message.payload)
      if (notified === undefined) return
      const listeners = users.get(notified.userId)
      if (listeners === undefined) return
      wakeUser(listeners, notified.seq)
    })
    next.on('error', (error) => { app.log.warn({ err: error }, 'event listener connection failed') })
    next.on('end', () => {
      if (client === next) { client = undefined; connected = undefined }
      if (!closing) schedule()
    })
    try {
      await next.connect()
    } finally {
      connecting = undefined
    }
    // Closed while connecting: this connection must not outlive the instance.
    if (closing) { await next.end(); return }
    await next.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${ACCOUNT_DELETED_CHANNEL}`)
    client = next
    attempt = 0
    // Whatever was notified while no listener was connected is read now.
    wakeAll()
  }

  /**
   * Keeps the registrations of the user's streams here alive. When they may have lapsed
   * meanwhile (the last renewal that succeeded is a lapse ago, or a registration was swept and
   * is put back), the streams look again: writers skipped waking them while they were lapsed.
   * A renewal that fails is logged and tried again at the next: the registrations have two
   * more thirds of their lapse, and a stream whose registration lapsed still sees every change
   * by its heartbeat. (A stream stays open meanwhile, as it would with the database away: its
   * next log read fails and ends it if the database is gone.)
   */
  function renew (userId: string, listeners: Listeners): void {
    if (listeners.renewing !== undefined) return
    const startedAt = performance.now()
    // In key order, as a stream's opening and closing lock them: fewer deadlocks to retry.
    const ids = [...listeners.streams].map((stream) => stream.id).sort()
    listeners.renewing = eventStreams.renew(app.database.forUser(userId), userId, ids, registrationTtlSeconds).then(({ restored }) => {
      // Measured at the end: a renewal held up (a busy pool, a lock) may itself come after the lapse.
      const lapsed = performance.now() - listeners.renewedAt >= registrationTtlSeconds * 1000
      listeners.renewedAt = startedAt
      if (restored > 0 || lapsed) wakeUser(listeners)
    }, (error: unknown) => {
      app.log.warn({ err: error }, 'event stream registrations not renewed; trying again later')
    }).finally(() => { listeners.renewing = undefined })
  }

  /** The account is gone: its streams here end (each unsubscribes as its response ends). */
  function accountDeleted (userId: string): void {
    const listeners = users.get(userId)
    if (listeners !== undefined) for (const stream of listeners.streams) stream.end()
    onAccountDeleted?.(userId)
  }

  function schedule (): void {
    if (closing || connected !== undefined) return
    const delay = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)] as number
    attempt++
    connected = new Promise<void>((resolve, reject) => {
      setTimeout(() => { connect().then(resolve, reject) }, attempt === 1 ? 0 : delay).unref()
    })
    connected.catch((error: unknown) => {
      app.log.warn({ err: error }, 'event listener cannot connect; retrying')
      connected = undefined
      schedule()
    })
  }

  app.decorate('eventHub', {
    ready: async (timeoutMs) => {
      if (client !== undefined) return
      schedule()
      await Promise.race([
        connected,
        new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error('event listener not connected')) }, timeoutMs).unref())
      ])
    },
    registrationTtlSeconds,
    subscribe: (userId, stream) => {
      // A stream that opens while the service shuts down (its opening was under way) ends at once.
      if (shuttingDown) stream.end()
      let listeners = users.get(userId)
      if (listeners === undefined) {
        const created: Listeners = {
          // Framed as soon as read: the rows as read die young (events/frames.ts).
          feed: new UserFeed(async (after, limit) => (await feedReads.read(userId, after, limit)).map(framed)),
          streams: new Set(),
          renewal: setInterval(() => { renew(userId, created) }, (registrationTtlSeconds * 1000) / 3).unref(),
          renewing: undefined,
          renewedAt: performance.now()
        }
        listeners = created
        users.set(userId, listeners)
      }
      const mine = listeners
      mine.streams.add(stream)
      return {
        feed: mine.feed,
        unsubscribe: async () => {
          mine.streams.delete(stream)
          if (mine.streams.size === 0 && users.get(userId) === mine) {
            clearInterval(mine.renewal)
            users.delete(userId)
          }
          const leaving = (async () => {
            // A renewal under way would put the registration back after its deletion: it goes first.
            await mine.renewing
            await eventStreams.close(app.database.forUser(userId), userId, stream.id)
          })().catch((error: unknown) => {
            app.log.warn({ err: error }, 'event stream registration not removed; it lapses by itself')
          })
          departing.add(leaving)
          await leaving
          departing.delete(leaving)
        }
      }
    },
    changed: (userId) => {
      const listeners = users.get(userId)
      if (listeners === undefined) return
      wakeUser(listeners)
    },
    closeAll: async (timeoutMs) => {
      for (const { streams } of users.values()) for (const stream of streams) stream.end()
      // A stream unsubscribes once its response has ended, and is gone once its registration is.
      const deadline = Date.now() + timeoutMs
      while ((users.size > 0 || departing.size > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    }
  } satisfies EventHub)

  // Listening from the start, not from the first stream: an account deleted by another
  // process must reach this one's auth cache (onAccountDeleted) even if it never streamed.
  app.addHook('onReady', async () => { schedule() })
  // Streams end before the server closes its idle connections and waits for the rest.
  app.addHook('preClose', async () => {
    shuttingDown = true
    await app.eventHub.closeAll(2_000)
  })
  app.addHook('onClose', async () => {
    closing = true
    feedReads.close()
    await Promise.all([connecting?.end().catch(() => {}), client?.end().catch(() => {})])
  })
}

export default fp(eventHub, { name: 'event-hub', dependencies: ['database'] })
