/**
 * The fan-out of the event log to this process's open streams: decorates the instance with
 * `eventHub`. One dedicated connection LISTENs on `todo_events`, where every writing
 * transaction of a user with an open stream notifies their id when it commits
 * (db/migrations/202611281250_event_streams.ts); the hub wakes that user's streams here,
 * which read the log from where they are. A wake-up carries nothing but "look again", so a
 * lost one costs only time: after the listener reconnects every stream is woken.
 * PostgreSQL LISTEN/NOTIFY rather than Redis: the notification is sent only if the change
 * commits, needs no second server, and every process of the service already has the database.
 * `closeAll()` (run before the server closes) ends every stream cleanly.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'

const EVENTS_CHANNEL = 'todo_events'

export interface EventStreamHandle {
  /** Wakes the stream: something may have been written for its user. */
  wake: () => void
  /** Ends the stream (shutdown). */
  end: () => void
}

export interface EventHub {
  /** Resolves once the listener is connected; rejects after `timeoutMs` without it. */
  ready: (timeoutMs: number) => Promise<void>
  subscribe: (userId: string, stream: EventStreamHandle) => () => void
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
}

const RECONNECT_MS = [100, 500, 1_000, 2_000, 5_000]

const eventHub: FastifyPluginAsync<EventHubOptions> = async (app, { url }) => {
  const streams = new Map<string, Set<EventStreamHandle>>()
  let client: pg.Client | undefined
  let connected: Promise<void> | undefined
  let attempt = 0
  let closing = false

  const wakeAll = (): void => { for (const set of streams.values()) for (const stream of set) stream.wake() }

  async function connect (): Promise<void> {
    const next = new pg.Client({ connectionString: url, application_name: 'todo-contract events' })
    next.on('notification', (message) => {
      if (message.payload === undefined) return
      for (const stream of streams.get(message.payload) ?? []) stream.wake()
    })
    next.on('error', (error) => { app.log.warn({ err: error }, 'event listener connection failed') })
    next.on('end', () => {
      if (client === next) { client = undefined; connected = undefined }
      if (!closing) schedule()
    })
    await next.connect()
    await next.query(`LISTEN ${EVENTS_CHANNEL}`)
    client = next
    attempt = 0
    // Whatever was notified while no listener was connected is read now.
    wakeAll()
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
    subscribe: (userId, stream) => {
      let set = streams.get(userId)
      if (set === undefined) { set = new Set(); streams.set(userId, set) }
      set.add(stream)
      return () => {
        set.delete(stream)
        if (set.size === 0 && streams.get(userId) === set) streams.delete(userId)
      }
    },
    closeAll: async (timeoutMs) => {
      for (const set of streams.values()) for (const stream of set) stream.end()
      // A stream unsubscribes once its response has ended.
      const deadline = Date.now() + timeoutMs
      while (streams.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    }
  } satisfies EventHub)

  // Streams end before the server closes its idle connections and waits for the rest.
  app.addHook('preClose', async () => { await app.eventHub.closeAll(2_000) })
  app.addHook('onClose', async () => {
    closing = true
    await client?.end().catch(() => {})
  })
}

export default fp(eventHub, { name: 'event-hub' })
