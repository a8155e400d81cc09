/**
 * An event stream read as a client reads it: fetch streaming, the raw text kept, events parsed
 * from it, and waits bounded in time.
 */
import type { Kysely } from 'kysely'
import type { ApiEvent } from '../../src/domain/events.js'
import type { Database } from '../../src/database/types.js'

export interface OpenedStream {
  status: number
  headers: Headers
  /** Everything received so far, as sent. */
  text: () => string
  /** The events received so far, in order. */
  events: () => ApiEvent[]
  /** Resolves once `check` holds for what was received, or rejects after `ms`. */
  until: (check: (events: ApiEvent[], text: string) => boolean, ms?: number) => Promise<void>
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  close: () => void
  body: unknown
}

export async function openStream (baseUrl: string, headers: Record<string, string>, path = '/api/me/events'): Promise<OpenedStream> {
  const abort = new AbortController()
  const response = await fetch(`${baseUrl}${path}`, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal })
  let text = ''
  let changed: () => void = () => {}
  const parse = (): ApiEvent[] => text.split('\n\n')
    .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
    .filter((line): line is string => line !== undefined)
    .map((line) => JSON.parse(line.slice(6)) as ApiEvent)
  let body: unknown
  let ended: Promise<void> = Promise.resolve()
  if (response.status === 200 && response.body !== null) {
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    ended = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          text += decoder.decode(value, { stream: true })
          changed()
        }
      } catch {
        // aborted by close()
      } finally {
        changed()
      }
    })()
  } else {
    body = await response.json()
  }
  return {
    status: response.status,
    headers: response.headers,
    text: () => text,
    events: parse,
    until: async (check, ms = 5_000) => {
      const deadline = Date.now() + ms
      while (!check(parse(), text)) {
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`stream: condition not met within ${ms} ms; received:\n${text}`)
        await new Promise<void>((resolve) => { changed = resolve; setTimeout(resolve, Math.min(left, 50)) })
      }
    },
    ended,
    close: () => { abort.abort() },
    body
  }
}

/**
 * Resolves once `count` streams of the user are registered (a stream starts where its
 * registration committed: an event written before that is not its). Rejects after `ms`.
 */
export async function streamsRegistered (db: Kysely<Database>, userId: string, count: number, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    const rows = await db.selectFrom('event_streams').select('id').where('user_id', '=', userId).execute()
    if (rows.length === count) return
    if (Date.now() > deadline) throw new Error(`${rows.length} streams of ${userId} registered, not ${count}, within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
