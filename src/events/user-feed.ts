/**
 * One user's event log as this process's streams of that user see it: a single reader shared
 * by all of them. Without it every wake-up costs one log read per open stream (ten streams of
 * a user, ten identical queries per change); with it, one read per change per process, and
 * each stream takes its rows from what that read brought.
 *
 * The feed keeps the rows it has read as a window (`base`, `head`]: every event of the user
 * with `base` < seq <= `head`, in order. A user's events commit in the order of their numbers
 * (the change counter is held until commit), so a read that saw number n saw every number
 * below it, and a window once read never gains a row. A stream whose position is inside the
 * window is served from it; one outside it (catching up after a resume, or ahead of a
 * notification still on its way) reads the log itself, as if there were no feed.
 *
 * A stream that has sent everything up to the window's head and waits is parked here
 * (`park`): the feed reads for it when something is announced, and hands it the rows each read
 * brings (`take`), so its own loop stays asleep; its loop runs again only at its heartbeat, or
 * when it falls behind (a slow client) or a read fails.
 */
/** The most events a stream is handed at a time. */
export const STREAM_PAGE = 200

/** What a feed needs of an event: its number in the user's log (events.seq). */
export interface Numbered { seq: string }

export type ReadAfter<Row extends Numbered> = (after: string, limit: number) => Promise<Row[]>

/** A stream as the feed sees it while the stream waits at the window's head (`park`). */
export interface FeedSubscriber<Row extends Numbered = Numbered> {
  /** The rows that follow the stream's position, in order: it sends them now. */
  take: (rows: Row[]) => void
  /** Its own loop should look (a read failed: that loop reads, and ends on an error). */
  wake: () => void
}

/**
 * Rows kept, and read at a time, for streams a little behind the newest (a slow client, a
 * burst). Small, because a feed lives as long as its user has a stream here: 64 frames of 1 KiB
 * for each of 100 users is 6.4 MiB (the service's feeds keep frames, not rows as read:
 * events/frames.ts says why).
 */
const WINDOW = 64

/** `Row`: what a read brings and the streams take (the service's: events/frames.ts). */
export class UserFeed<Row extends Numbered = Numbered> {
  private base: bigint | undefined
  private head: bigint | undefined
  private rows: Row[] = []
  /** `rows`' numbers, parsed once: every stream of the user looks them up at every wake-up. */
  private seqs: bigint[] = []
  /** The newest number a notification announced that has not been read yet. */
  private announced = 0n
  private stale = true
  private reading: Promise<boolean> | undefined
  /** When the window last took a read (performance.now()). */
  private readAt = 0
  /** How many announcements came: one that comes during the first read is not lost by it. */
  private announcements = 0
  /** A numbered announcement came while a read was out: that read may have begun before its commit. */
  private announcedWhileReading = false
  /** Streams waiting at `head`: every read that brings rows hands them over at once. */
  private readonly parked = new Set<FeedSubscriber<Row>>()

  constructor (private readonly read: ReadAfter<Row>) {}

  /**
   * Something was committed for the user: up to event `seq` when the notification said, or
   * anything (after a listener reconnect) when it did not.
   */
  announce (seq?: bigint): void {
    this.announcements++
    if (seq === undefined) { this.stale = true; this.pump(); return }
    if (seq > this.announced) this.announced = seq
    if (this.head !== undefined && seq <= this.head) return
    // A read out now decides when it is back, by what it brought: the notification of a write
    // usually lands while the read that write's own wake-up started is still out, and that
    // read has it (events/wakeups.ts wakes this process's streams first).
    if (this.reading !== undefined) this.announcedWhileReading = true
    else this.stale = true
    this.pump()
  }

  /**
   * A stream that has sent everything up to `position` waits. At the window's head it is kept
   * here: the rows the next read brings go to it at once (`take`), and its own loop stays
   * asleep: a change costs a parked stream its socket write alone, where waking its loop to
   * ask for the same rows cost as much again (docs/benchmarks.md, "Event streams: one read for
   * many feeds"). Anywhere else it is not kept (false): it reads for itself, as without a feed.
   * Kept until the feed hands it rows, `unpark`, or a read fails (then `wake`).
   */
  park (subscriber: FeedSubscriber<Row>, position: bigint): boolean {
    if (this.head === undefined || position !== this.head) return false
    this.parked.add(subscriber)
    this.pump()
    return true
  }

  unpark (subscriber: FeedSubscriber<Row>): void {
    this.parked.delete(subscriber)
  }

  isParked (subscriber: FeedSubscriber<Row>): boolean {
    return this.parked.has(subscriber)
  }

  /** Every parked stream, no longer parked (a stream handed rows parks again itself). */
  private unparkAll (): Array<FeedSubscriber<Row>> {
    const waiting = [...this.parked]
    this.parked.clear()
    return waiting
  }

  /** Reads while something announced is unread and streams are parked: nobody else would. */
  private pump (): void {
    if (this.parked.size === 0 || !this.stale || this.reading !== undefined || this.base === undefined) return
    this.reading = this.startRead()
    // A failure wakes the parked streams (startRead), whose own reads meet it.
    this.reading.catch(() => {})
  }

  /**
   * Look again at the next `after` if the window has not been read for `quietMs`: a stream's
   * heartbeat calls it, so that a wake-up that never came (its writer's process died between
   * the commit and the wake-up, events/wakeups.ts) delays an event by a heartbeat at most. One
   * read per user per heartbeat, however many of their streams are here.
   */
  recheck (quietMs: number): void {
    // Half the heartbeat: a timer may fire a little early, and the next heartbeat is a whole one away.
    if (performance.now() - this.readAt >= quietMs / 2) this.stale = true
  }

  /** Up to STREAM_PAGE events after `after`, in order. */
  async after (after: string): Promise<Row[]> {
    const position = BigInt(after)
    if (this.base === undefined) {
      const announcements = this.announcements
      const rows = await this.read(after, STREAM_PAGE)
      if (this.base === undefined) this.adopt(position, rows, this.announcements !== announcements)
      return rows
    }
    if (position < this.base) return await this.read(after, STREAM_PAGE)
    await this.refresh()
    // Outside the window now: ahead of it, or behind it when the reads moved it on (more was
    // written than it holds). Such a stream reads the log itself.
    if (this.head === undefined || position > this.head || position < this.base) return await this.read(after, STREAM_PAGE)
    // The first kept row after `position` (usually none, or the last few: look from the end).
    let first = this.seqs.length
    while (first > 0 && (this.seqs[first - 1] as bigint) > position) first--
    return this.rows.slice(first, first + STREAM_PAGE)
  }

  /** The first read: `announcedMeanwhile`, something may have committed while it was out. */
  private adopt (position: bigint, rows: Row[], announcedMeanwhile: boolean): void {
    this.base = position
    this.head = position
    this.readAt = performance.now()
    this.append(rows)
    this.stale = announcedMeanwhile || rows.length === STREAM_PAGE || this.announced > this.head
  }

  /**
   * Brings the window up to everything announced before this call, with one read for every
   * stream waiting on it. A read already out may have begun before what woke the caller: it
   * is waited for, then the window is read again if it is stale. A full read means more is
   * committed, which nothing would wake the caller for again: reading goes on while reads come
   * back full. What is announced after the call is for the caller's next wake-up, so a user
   * written to without a pause does not hold their streams in here.
   */
  private async refresh (): Promise<void> {
    if (this.reading !== undefined) await this.reading
    let full: boolean
    do {
      // A read out now began after the call (another stream's): it serves this one too.
      if (this.reading === undefined) {
        if (!this.stale) return
        this.reading = this.startRead()
      }
      full = await this.reading
    } while (full)
  }

  /** One read of what follows the window; resolves with whether it came back full. */
  private async startRead (): Promise<boolean> {
    this.stale = false
    this.announcedWhileReading = false
    return await this.read(String(this.head), WINDOW).then((rows) => {
      // Not in a finally: an announcement between this and a finally would find a read
      // still out and leave the decision to it, which has already decided.
      this.reading = undefined
      this.readAt = performance.now()
      this.append(rows)
      // A notification named an event this read did not bring: look again if this read
      // brought something or the notification came while it was out (it may have begun before
      // that commit). A read that began after the notification and found nothing ends it (a
      // notification only names committed events).
      const behind = this.announced > (this.head as bigint) && (rows.length > 0 || this.announcedWhileReading)
      this.announcedWhileReading = false
      const full = rows.length === WINDOW
      if (full || behind) this.stale = true
      // Parked streams are at the previous head: these rows follow it. Each parks again at the
      // new head once it has sent them (or stays out, if its client is slow).
      if (rows.length > 0) {
        for (const subscriber of this.unparkAll()) {
          // One stream's failure (an event it cannot format) is its loop's to meet, not the others'.
          try { subscriber.take(rows) } catch { subscriber.wake() }
        }
      }
      // More to read (a full read, or an announcement this read may have missed): for the
      // parked streams, read on.
      this.pump()
      return full
    }, (error: unknown) => {
      this.reading = undefined
      this.announcedWhileReading = false
      this.stale = true
      // Parked streams' loops read again, and end on an error as a stream does when the database is away.
      for (const subscriber of this.unparkAll()) subscriber.wake()
      throw error
    })
  }

  private append (rows: Row[]): void {
    if (rows.length === 0) return
    for (const row of rows) {
      this.rows.push(row)
      this.seqs.push(BigInt(row.seq))
    }
    this.head = this.seqs[this.seqs.length - 1] as bigint
    const excess = this.rows.length - WINDOW
    if (excess > 0) {
      this.base = this.seqs[excess - 1] as bigint
      this.rows.splice(0, excess)
      this.seqs.splice(0, excess)
    }
  }
}
