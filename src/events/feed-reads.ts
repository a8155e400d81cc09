/**
 * The feeds' log reads (user-feed.ts), gathered into one statement for many users. A feed
 * reads once per change of its user, for all that user's streams here; with streams of many
 * users open, each change still cost a statement of its own, and its round trip (the pool, the
 * driver, the socket writes that wake the database) weighed more than the few rows it brought
 * (docs/benchmarks.md, "Event streams: one read for many feeds"). Here a read waits up to
 * GATHER_MS for others, then all go as one `read_stream_feeds` call
 * (db/migrations/202611291700_stream_feed_reads.ts); one call is out at a time. Every call
 * goes GATHER_MS after the first read it carries was made, or as soon as the call before it
 * returns if that is later: reads made while a call is out wait for their gathering too.
 * (Sending them as soon as the call returned, as before, made every gathered call followed by
 * one of a read or two: 2.5 times the calls, each costing PostgreSQL ~300 µs of CPU whatever it
 * carries; docs/benchmarks.md, "Event streams: every feed call gathers".)
 *
 * A read's answer is what reading alone would have given: the statement reads each user's
 * range as that read would. A call of several reads that fails is sent again as one call per
 * read, so that what failed it (a timeout, a row refused) fails only the reads it concerns: a
 * failed read ends its user's streams here (their clients resume with Last-Event-ID), and a
 * failure of one user's read must not end every user's.
 */
import type { EventRow } from '../domain/events.js'
import type { FeedRead } from '../repositories/events.js'

/**
 * How long the first read of a call waits for others: under steady writes, a call per 25 ms
 * instead of one per change, for at most 25 ms more on the way to a stream (the wake-ups of
 * other processes' streams wait 50 ms already, events/wakeups.ts). 25 rather than 10: fewer
 * calls cost the rest of the load less, for a delivery p99 still well under its 250 ms target
 * (docs/benchmarks.md, "Event streams: fewer wake-up calls and log reads").
 */
export const GATHER_MS = 25

/** Reads in one call at most (its arrays are bound parameters); the rest wait for the next. */
const MAX_READS_PER_CALL = 1_000

type Send = (reads: FeedRead[]) => Promise<EventRow[][]>

interface Waiting extends FeedRead {
  resolve: (rows: EventRow[]) => void
  reject: (error: unknown) => void
}

export class FeedReads {
  private waiting: Waiting[] = []
  /** When the oldest read waiting was made (performance.now()). */
  private firstWaitingAt = 0
  private sending: Promise<void> | undefined
  private gathering: NodeJS.Timeout | undefined
  private closed = false

  constructor (private readonly send: Send, private readonly gatherMs = GATHER_MS) {}

  /** The user's events after `after`, at most `limit`, oldest first. */
  async read (userId: string, after: string, limit: number): Promise<EventRow[]> {
    if (this.closed) throw new Error('the event hub is closing')
    return await new Promise<EventRow[]>((resolve, reject) => {
      if (this.waiting.length === 0) this.firstWaitingAt = performance.now()
      this.waiting.push({ userId, after, limit, resolve, reject })
      this.schedule()
    })
  }

  /** The next call, once none is out: GATHER_MS after its first read was made, at once if that has passed. */
  private schedule (): void {
    if (this.sending !== undefined || this.gathering !== undefined || this.waiting.length === 0) return
    const wait = this.firstWaitingAt + this.gatherMs - performance.now()
    if (wait <= 0) { this.flush(); return }
    this.gathering = setTimeout(() => { this.gathering = undefined; this.flush() }, wait)
  }

  /** Fails the reads not yet sent and sends no more (the pool is closing); a call out finishes. */
  close (): void {
    this.closed = true
    clearTimeout(this.gathering)
    this.gathering = undefined
    for (const read of this.waiting.splice(0)) read.reject(new Error('the event hub is closing'))
  }

  private flush (): void {
    if (this.sending !== undefined || this.waiting.length === 0) return
    // Reads left over (more than a call carries) have waited as long: they go next, at once.
    const reads = this.waiting.splice(0, MAX_READS_PER_CALL)
    this.sending = this.answer(reads).finally(() => {
      this.sending = undefined
      this.schedule()
    })
  }

  /** Answers `reads` with one call; when a call of several fails, each is sent again alone. Never rejects. */
  private async answer (reads: Waiting[]): Promise<void> {
    let answers: EventRow[][]
    try {
      answers = await this.send(reads.map(({ userId, after, limit }) => ({ userId, after, limit })))
    } catch (error) {
      if (reads.length === 1) (reads[0] as Waiting).reject(error)
      else await Promise.all(reads.map(async (read) => { await this.answer([read]) }))
      return
    }
    reads.forEach((read, index) => {
      const rows = answers[index]
      if (rows === undefined) read.reject(new Error('a gathered feed read went unanswered'))
      else read.resolve(rows)
    })
  }
}
