/**
 * The event stream (API.md part two, "Events", Stream): server-sent events written by hand on
 * the raw response — a few lines, where a helper library would still leave us the parts that
 * matter here (registering the stream and fixing its start in one transaction, reading the
 * log after each wake-up, ending on shutdown). The registration is renewed by the event hub
 * (events/hub.ts), for all of a user's streams in this process at once.
 */
import { randomUUID } from 'node:crypto'
import type { Writable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { seqOf } from '../domain/events.js'
import { ApiProblem } from '../errors.js'
import * as eventStreams from '../repositories/event-streams.js'
import type { EventStreamHandle } from '../events/hub.js'
import { STREAM_PAGE } from '../events/user-feed.js'
import type { Handlers } from './types.js'

/** What an EventSource waits before reconnecting. */
const RETRY_MS = 3_000

export interface StreamSettings {
  maxStreamsPerUser: number
  heartbeatMs: number
}

declare module 'fastify' {
  interface FastifyInstance {
    eventStreamSettings: StreamSettings
  }
}

/**
 * A stream's wake-ups, never lost: one that comes while the stream is busy is kept for its next
 * wait. A wake-up naming an event (a notification: "the user's newest is n") is dropped when
 * the stream has sent n already: its user's write woke it once in the writing process, and the
 * notification of the same write comes a moment later to every process.
 */
function waker (): { wake: (seq?: bigint) => void, wait: (ms: number, sent: bigint) => Promise<boolean> } {
  /** What came meanwhile: nothing, something unnamed (look in any case), or up to a number. */
  let pending: false | true | bigint = false
  let waiting: { sent: bigint, resolve: (woken: boolean) => void } | undefined
  return {
    wake: (seq) => {
      if (waiting === undefined) {
        if (seq === undefined || pending === false) pending = seq ?? true
        else if (pending !== true && seq > pending) pending = seq
        return
      }
      if (seq !== undefined && seq <= waiting.sent) return
      const { resolve } = waiting
      waiting = undefined
      resolve(true)
    },
    wait: async (ms, sent) => {
      const came = pending
      pending = false
      if (came === true || (came !== false && came > sent)) return true
      return await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { waiting = undefined; resolve(false) }, ms)
        waiting = { sent, resolve: (woken) => { clearTimeout(timer); resolve(woken) } }
      })
    }
  }
}

export const eventHandlers: Handlers<'streamEvents'> = {
  async streamEvents (request, reply): Promise<FastifyReply> {
    // HEAD (Fastify answers it with the GET's handler): the stream's headers, and no stream,
    // which would count against the user's streams until the client hung up.
    if (request.method === 'HEAD') {
      return await reply.code(200).headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' }).send()
    }
    const userId = request.user.id
    const { maxStreamsPerUser, heartbeatMs } = request.server.eventStreamSettings
    const given = request.headers['last-event-id']
    const resumeAfter = given === undefined || given === '' ? undefined : seqOf(given)
    try {
      await request.server.eventHub.ready(5_000)
    } catch {
      throw new ApiProblem('service-unavailable', 'Event streams are unavailable for the moment.', { headers: { 'retry-after': '5' } })
    }
    const streamId = randomUUID()
    const hub = request.server.eventHub
    const opened = await eventStreams.open(request.db, userId, streamId, { ttlSeconds: hub.registrationTtlSeconds, max: maxStreamsPerUser, resumeAfter })
    if (opened === 'full') {
      throw new ApiProblem('rate-limited', `At most ${maxStreamsPerUser} event streams may be open at once.`, { headers: { 'retry-after': String(Math.ceil(RETRY_MS / 1000)) } })
    }
    if (opened === 'ahead') {
      throw new ApiProblem('validation-failed', 'Last-Event-ID is newer than your newest event.', { errors: [{ header: 'Last-Event-ID', detail: 'names no event of yours' }] })
    }
    if (opened === 'gone') {
      throw new ApiProblem('events-gone', 'Events after this id are no longer kept; sync, then stream without Last-Event-ID.', { errors: [{ header: 'Last-Event-ID', detail: 'is older than the events kept' }] })
    }

    let after = opened.after
    const raw = reply.raw
    /** Where the body is written: the connection itself, or the response while it has none. */
    let out: Writable = raw
    const state = { open: true }
    const signal = waker()
    /** Set while a write waits for the client to take what was written. */
    let stopWaiting: (() => void) | undefined
    const end = (): void => { state.open = false; signal.wake(); stopWaiting?.() }
    const stream: EventStreamHandle = {
      id: streamId,
      wake: signal.wake,
      end,
      // Called by the feed while this stream is parked (its loop asleep, everything up to the
      // feed's head sent): the events that follow, sent at once. A client that cannot take them
      // all now has them buffered (a window at most), and the loop waits for it to drain.
      take: (events) => {
        const last = events[events.length - 1]
        if (!state.open || last === undefined) return
        // Several events (a burst, or two changes in one gathered read) go out corked: one
        // system call for all, and the frames the user's streams share are not copied.
        if (events.length > 1) out.cork()
        let full = false
        for (const event of events) if (!out.write(event.frame)) full = true
        if (events.length > 1) out.uncork()
        after = last.seq
        if (full || !feed.park(stream, BigInt(after))) signal.wake()
      }
    }
    const { feed, unsubscribe } = hub.subscribe(userId, stream)
    // The connection's own close as well as the response's: a response queued behind another
    // on its connection (HTTP/1.1 pipelining) has no socket to hear the close from, and one
    // that is never sent may emit no 'close': its stream would stay registered, counting
    // against the user's streams, until shutdown (test/routes/stream-connection.test.ts).
    const connection = request.raw.socket
    try {
      raw.on('close', end)
      connection.on('close', end)
      // A client that left while the stream was being opened: its 'close' has come already.
      if (raw.destroyed || connection.destroyed) end()
      reply.hijack()
      // The body ends when the connection does (HTTP/1.1 allows a body delimited by the close,
      // RFC 9112 section 6.3), not in chunked encoding: Node writes a chunk as its size, the data
      // and a line end, corked until the next tick and sent in one writev, and the client
      // parses the framing back. For a stream that ends only with its connection this framing
      // only costs: measured on 1,000 streams, 40% of the service's CPU per frame and a
      // quarter of the client's (docs/benchmarks.md, "Event streams: one read for many
      // feeds"). Node writes no Transfer-Encoding once the header is removed (Node 20 to 26;
      // test/routes/event-stream.test.ts checks it).
      raw.removeHeader('transfer-encoding')
      // The headers the hooks set (request id, security headers), then the stream's own.
      const set = Object.entries(reply.getHeaders()).filter((entry): entry is [string, string | number | string[]] => entry[1] !== undefined)
      raw.writeHead(200, {
        ...Object.fromEntries(set),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // A stream's connection is not reused: when the stream ends, so does the connection
        // (and a closing server is not left waiting for it to idle out).
        connection: 'close',
        'x-accel-buffering': 'no'
      })
      raw.flushHeaders()
      // The body goes straight to the connection once the headers are on it: with no chunked
      // framing the bytes are the same, and each of ServerResponse's writes corks the socket
      // and uncorks it a tick later (one writev per frame, through Node's HTTP layer): 19 µs
      // of the process's CPU a frame against 15 written to the socket (1,000 streams, 4,000
      // frames a second, node:http alone; docs/benchmarks.md, "Event streams: frames written
      // to the connection"). A response queued behind another on its connection (HTTP/1.1
      // pipelining) has no connection yet: it writes through the response, which queues.
      out = raw.socket ?? raw
      /** Until the client has taken what was written (or the stream ends). */
      const drained = async (): Promise<void> => {
        const target = out
        await new Promise<void>((resolve) => {
          const done = (): void => {
            target.off('drain', done)
            target.off('close', done)
            stopWaiting = undefined
            resolve()
          }
          target.on('drain', done)
          target.on('close', done)
          stopWaiting = done
        })
      }
      /** Writes, then waits until the client has taken it: a slow client is not buffered for. */
      const write = async (text: string | Buffer): Promise<void> => {
        if (!state.open || out.write(text)) return
        await drained()
      }
      await write(`retry: ${RETRY_MS}\n\n`)
      while (state.open) {
        // What the feed handed over while the loop slept may still be on its way to the client.
        if (out.writableNeedDrain) await drained()
        const events = await feed.after(after)
        for (const event of events) {
          if (!state.open) break
          await write(event.frame)
          after = event.seq
        }
        if (events.length === STREAM_PAGE) continue
        // Asleep until woken, or the heartbeat: at the feed's head, the feed sends what it reads next.
        feed.park(stream, BigInt(after))
        const woken = await signal.wait(heartbeatMs, BigInt(after))
        feed.unpark(stream)
        if (!state.open) break
        if (!woken) {
          await write(': keep-alive\n\n')
          feed.recheck(heartbeatMs)
        }
      }
    } catch (error) {
      // The database went away, or the client: the client reconnects with Last-Event-ID.
      request.log.warn({ err: error }, 'event stream ended by an error')
    } finally {
      connection.off('close', end)
      raw.end()
      // Removes the registration too (events/hub.ts).
      await unsubscribe()
    }
    return reply
  }
}
