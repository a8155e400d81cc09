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
 */
import type { EventRow } from '../domain/events.js'

/** The most events a stream is handed at a time. */
export const STREAM_PAGE = 200

export type ReadAfter = (after: string, limit: number) => Promise<EventRow[]>

/**
 * Rows kept, and read at a time, for streams a little behind the newest (a slow client, a
 * burst). Small, because a feed lives as long as its user has a stream here: 64 rows of 1 KiB
 * for each of 100 users is 6.4 MiB.
 */
const WINDOW = 64

export class UserFeed {
  private base: bigint | undefined
  private head: bigint | undefined
  private rows: EventRow[] = []
  /** The newest number a notification announced that has not been read yet. */
  private announced = 0n
  private stale = true
  private reading: Promise<void> | undefined
  /** When the window last took a read (performance.now()). */
  private readAt = 0
  /** How many announcements came: one that comes during the first read is not lost by it. */
  private announcements = 0

  constructor (private readonly read: ReadAfter) {}

  /**
   * Something was committed for the user: up to event `seq` when the notification said, or
   * anything (after a listener reconnect) when it did not.
   */
  announce (seq?: bigint): void {
    this.announcements++
    if (seq === undefined) { this.stale = true; return }
    if (seq > this.announced) this.announced = seq
    if (this.head === undefined || seq > this.head) this.stale = true
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
  async after (after: string): Promise<EventRow[]> {
    const position = BigInt(after)
    if (this.base === undefined) {
      const announcements = this.announcements
      const rows = await this.read(after, STREAM_PAGE)
      if (this.base === undefined) this.adopt(position, rows, this.announcements !== announcements)
      return rows
    }
    if (position < this.base) return await this.read(after, STREAM_PAGE)
    await this.refresh()
    if (this.head === undefined || position > this.head) return await this.read(after, STREAM_PAGE)
    const rows: EventRow[] = []
    for (const row of this.rows) {
      if (BigInt(row.seq) > position) rows.push(row)
      if (rows.length === STREAM_PAGE) break
    }
    return rows
  }

  /** The first read: `announcedMeanwhile`, something may have committed while it was out. */
  private adopt (position: bigint, rows: EventRow[], announcedMeanwhile: boolean): void {
    this.base = position
    this.head = position
    this.readAt = performance.now()
    this.append(rows)
    this.stale = announcedMeanwhile || rows.length === STREAM_PAGE || this.announced > this.head
  }

  /**
   * Reads what was announced since the last read, once for every stream waiting on it. A read
   * in flight is waited for even when nothing new was announced since it began: what it
   * brings is what the caller was woken for.
   */
  private async refresh (): Promise<void> {
    for (;;) {
      if (this.reading !== undefined) {
        await this.reading
        continue
      }
      if (!this.stale) return
      this.stale = false
      this.reading = this.read(String(this.head), WINDOW).then((rows) => {
        this.readAt = performance.now()
        this.append(rows)
        // More than a window was written, or a notification came while reading. (A read that
        // finds nothing ends it: a notification only ever names committed events.)
        if (rows.length === WINDOW || (rows.length > 0 && this.announced > (this.head as bigint))) this.stale = true
      }, (error: unknown) => {
        this.stale = true
        throw error
      }).finally(() => { this.reading = undefined })
    }
  }

  private append (rows: EventRow[]): void {
    if (rows.length === 0) return
    this.rows.push(...rows)
    this.head = BigInt((rows[rows.length - 1] as EventRow).seq)
    const excess = this.rows.length - WINDOW
    if (excess > 0) {
      this.base = BigInt((this.rows[excess - 1] as EventRow).seq)
      this.rows.splice(0, excess)
    }
  }
}
