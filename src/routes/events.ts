/**
 * The event stream (API.md part two, "Events", Stream): server-sent events written by hand on
 * the raw response — a few lines, where a helper library would still leave us the parts that
 * matter here (registering the stream and fixing its start in one transaction, reading the
 * log after each wake-up, renewing the registration, ending on shutdown).
 */
import { randomUUID } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import { type EventRow, seqOf, toEvent } from '../domain/events.js'
import { ApiProblem } from '../errors.js'
import * as eventStreams from '../repositories/event-streams.js'
import { STREAM_PAGE } from '../events/user-feed.js'
import type { Handlers } from './types.js'

/** What an EventSource waits before reconnecting. */
const RETRY_MS = 3_000
/** A stream's registration lapses this long after its last renewal (a crashed process's too). */
const TTL_SECONDS = 60

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
 * An event's SSE frame, made once per row: the streams of a user in this process share the
 * feed's rows (events/user-feed.ts), so ten streams serialize a change once, not ten times.
 */
const frames = new WeakMap<EventRow, string>()
const format = (row: EventRow): string => {
  let frame = frames.get(row)
  if (frame === undefined) {
    const event = toEvent(row)
    frame = `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
    frames.set(row, frame)
  }
  return frame
}

/** A wake-up that is never lost: one that comes while nobody waits is kept for the next wait. */
function waker (): { wake: () => void, wait: (ms: number) => Promise<boolean> } {
  let pending = false
  let resolve: ((woken: boolean) => void) | undefined
  return {
    wake: () => {
      if (resolve === undefined) { pending = true; return }
      const done = resolve
      resolve = undefined
      done(true)
    },
    wait: async (ms) => {
      if (pending) { pending = false; return true }
      return await new Promise<boolean>((_resolve) => {
        const timer = setTimeout(() => { resolve = undefined; _resolve(false) }, ms)
        resolve = (woken) => { clearTimeout(timer); _resolve(woken) }
      })
    }
  }
}

export const eventHandlers: Handlers<'streamEvents'> = {
  async streamEvents (request, reply): Promise<FastifyReply> {
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
    const opened = await eventStreams.open(request.db, userId, streamId, { ttlSeconds: TTL_SECONDS, max: maxStreamsPerUser, resumeAfter })
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
    const state = { open: true }
    const signal = waker()
    const end = (): void => { state.open = false; signal.wake() }
    const { feed, unsubscribe } = request.server.eventHub.subscribe(userId, { wake: signal.wake, end })
    raw.on('close', end)
    reply.hijack()
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
    const write = async (text: string): Promise<void> => {
      if (!raw.write(text)) await new Promise<void>((resolve) => { raw.once('drain', resolve); raw.once('close', resolve) })
    }
    try {
      await write(`retry: ${RETRY_MS}\n\n`)
      let renewed = Date.now()
      while (state.open) {
        const rows = await feed.after(after)
        for (const row of rows) {
          if (!state.open) break
          await write(format(row))
          after = row.seq
        }
        if (rows.length === STREAM_PAGE) continue
        const woken = await signal.wait(heartbeatMs)
        if (!state.open) break
        if (!woken) {
          await write(': keep-alive\n\n')
          feed.recheck(heartbeatMs)
        }
        if (Date.now() - renewed > (TTL_SECONDS * 1000) / 3) {
          if (await eventStreams.renew(request.db, userId, streamId, TTL_SECONDS) === 'restored') feed.announce()
          renewed = Date.now()
        }
      }
    } catch (error) {
      // The database went away, or the client: the client reconnects with Last-Event-ID.
      request.log.warn({ err: error }, 'event stream ended by an error')
    } finally {
      raw.end()
      unsubscribe()
      await eventStreams.close(request.db, userId, streamId).catch((error: unknown) => {
        request.log.warn({ err: error }, 'event stream registration not removed; it lapses by itself')
      })
    }
    return reply
  }
}
