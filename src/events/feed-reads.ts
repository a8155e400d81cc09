/**
 * The feeds' log reads (user-feed.ts), gathered into one statement for many users. A feed
 * reads once per change of its user, for all that user's streams here; with streams of many
 * users open, each change still cost a statement of its own, and its round trip (the pool, the
 * driver, the socket writes that wake the database) weighed more than the few rows it brought
 * (docs/benchmarks.md, "Event streams: one read for many feeds"). Here a read waits up to
 * GATHER_MS for others, then all go as one `read_stream_feeds` call
 * (db/migrations/202611291700_stream_feed_reads.ts); one call is out at a time, and reads that
 * come meanwhile go in the next, sent as soon as it returns (they have waited a round trip).
 *
 * A read's answer is what reading alone would have given: the statement reads each user's
 * range as that read would, and a call that fails fails each read in it (its feed looks again
 * at its next wake-up, as after any failed read).
 */
import type { EventRow } from '../domain/events.js'
import type { FeedRead } from '../repositories/events.js'

/**
 * How long the first read of a call waits for others: under steady writes, a call per 10 ms
 * instead of one per change, for at most 10 ms more on the way to a stream (the wake-ups of
 * other processes' streams wait 20 ms already, events/wakeups.ts).
 */
export const GATHER_MS = 10

/** Reads in one call at most (its arrays are bound parameters); the rest wait for the next. */
const MAX_READS_PER_CALL = 1_000

type Send = (reads: FeedRead[]) => Promise<EventRow[][]>

interface Waiting extends FeedRead {
  resolve: (rows: EventRow[]) => void
  reject: (error: unknown) => void
}

export class FeedReads {
  private waiting: Waiting[] = []
  private sending: Promise<void> | undefined
  private gathering: NodeJS.Timeout | undefined

  constructor (private readonly send: Send, private readonly gatherMs = GATHER_MS) {}

  /** The user's events after `after`, at most `limit`, oldest first. */
  async read (userId: string, after: string, limit: number): Promise<EventRow[]> {
    return await new Promise<EventRow[]>((resolve, reject) => {
      this.waiting.push({ userId, after, limit, resolve, reject })
      if (this.sending === undefined && this.gathering === undefined) {
        this.gathering = setTimeout(() => { this.gathering = undefined; this.flush() }, this.gatherMs)
      }
    })
  }

  private flush (): void {
    if (this.sending !== undefined || this.waiting.length === 0) return
    const reads = this.waiting.splice(0, MAX_READS_PER_CALL)
    this.sending = this.send(reads.map(({ userId, after, limit }) => ({ userId, after, limit }))).then((answers) => {
      reads.forEach((read, index) => {
        const rows = answers[index]
        if (rows === undefined) read.reject(new Error('a gathered feed read went unanswered'))
        else read.resolve(rows)
      })
    }, (error: unknown) => {
      for (const read of reads) read.reject(error)
    }).finally(() => {
      this.sending = undefined
      this.flush()
    })
  }
}
