/**
 * src/events/user-feed.ts: one reader of a user's event log for all their streams in a process.
 * Its promise to a stream: the call of `after` that follows a wake-up brings every event
 * announced before that call, in order, with no gap and no duplicate; and it reads the log
 * once per change, not once per stream or once per announcement of the same change.
 * The log here is an array read with the database's visibility: a read sees what was
 * committed when it began, and comes back whenever the test (or fast-check's scheduler) lets it.
 */
import fc from 'fast-check'
import t from 'tap'
import type { EventRow } from '../../src/domain/events.js'
import { STREAM_PAGE, UserFeed } from '../../src/events/user-feed.js'

function log (): { rows: EventRow[], commit: () => bigint, newest: () => bigint } {
  const rows: EventRow[] = []
  return {
    rows,
    commit: () => {
      const seq = BigInt(rows.length + 1)
      rows.push({ user_id: 'u', seq: String(seq), type: 'task.updated', occurred_at: '2026-11-29T12:00:00Z', data: { n: rows.length } })
      return seq
    },
    newest: () => BigInt(rows.length)
  }
}

/** A read that sees what is committed now and returns when `release` is called. */
function heldReads (committed: EventRow[]): { read: (after: string, limit: number) => Promise<EventRow[]>, count: () => number, release: () => void } {
  let count = 0
  const held: Array<() => void> = []
  return {
    read: async (after, limit) => {
      count++
      const seen = committed.filter((row) => BigInt(row.seq) > BigInt(after)).slice(0, limit)
      await new Promise<void>((resolve) => held.push(resolve))
      return seen
    },
    count: () => count,
    release: () => { for (const resolve of held.splice(0)) resolve() }
  }
}

const seqs = (rows: EventRow[]): string[] => rows.map((row) => row.seq)

/** What happens around a feed in the properties below, besides its streams' own moves. */
const logSteps = [
  fc.constant({ kind: 'commit' as const }),
  // A batch: more events at once than the feed's window holds, at times.
  fc.record({ kind: fc.constant('burst' as const), count: fc.integer({ min: 2, max: 150 }) }),
  fc.constant({ kind: 'announce-named' as const }),
  fc.constant({ kind: 'announce-unnamed' as const }),
  // A read out comes back (which one: the scheduler's choice).
  fc.constant({ kind: 'release' as const })
] as const

/** A feed over an empty log, its first read (the adoption) done. */
async function adoptedFeed (): Promise<{ feed: UserFeed<EventRow>, reads: ReturnType<typeof heldReads>, commit: () => bigint }> {
  const { rows, commit } = log()
  const reads = heldReads(rows)
  const feed = new UserFeed(reads.read)
  const first = feed.after('0')
  reads.release()
  if ((await first).length !== 0) throw new Error('the log is empty')
  return { feed, reads, commit }
}

t.test('the notification of a write, landing while the read its wake-up started is out, costs no second read', async (t) => {
  const { feed, reads, commit } = await adoptedFeed()
  // The write commits; its process wakes its streams (unnamed), which read; its notification
  // ("the newest is 1") lands while that read is out.
  const seq = commit()
  feed.announce()
  const streams = [feed.after('0'), feed.after('0'), feed.after('0')]
  await new Promise((resolve) => setImmediate(resolve))
  feed.announce(seq)
  reads.release()
  for (const stream of await Promise.all(streams)) t.same(seqs(stream), ['1'], 'every stream has the event')
  t.equal(reads.count(), 2, 'one read for the adoption, one for the change: the notification added none')
  t.same(seqs(await feed.after('1')), [], 'and nothing more is read afterwards')
  t.equal(reads.count(), 2)
})

t.test('a notification landing while a read that began before its commit is out is not lost: the next call brings it', async (t) => {
  const { feed, reads, commit } = await adoptedFeed()
  feed.announce()
  const stream = feed.after('0')
  await new Promise((resolve) => setImmediate(resolve))
  // The read is out and saw nothing; now event 1 commits and is announced.
  const seq = commit()
  feed.announce(seq)
  reads.release()
  t.same(seqs(await stream), [], 'the call under way when it was announced ends with what its read saw')
  // The notification woke the stream, which calls again.
  const again = feed.after('0')
  await new Promise((resolve) => setImmediate(resolve))
  reads.release()
  t.same(seqs(await again), ['1'], 'the feed read once more and brought it')
})

t.test('an announcement naming an event already read reads nothing', async (t) => {
  const { feed, reads, commit } = await adoptedFeed()
  const seq = commit()
  feed.announce(seq)
  const got = feed.after('0')
  await new Promise((resolve) => setImmediate(resolve))
  reads.release()
  t.same(seqs(await got), ['1'])
  const count = reads.count()
  feed.announce(seq)
  t.same(seqs(await feed.after('1')), [])
  t.equal(reads.count(), count, 'no read')
})

t.test('in any interleaving, the call that follows an announcement brings everything announced before it', async (t) => {
  const step = fc.oneof(...logSteps, fc.record({ kind: fc.constant('stream' as const), stream: fc.integer({ min: 0, max: 2 }) }))
  await fc.assert(fc.asyncProperty(fc.scheduler(), fc.array(step, { minLength: 1, maxLength: 60 }), async (s, steps) => {
    const { rows, commit, newest } = log()
    const feed = new UserFeed(async (after, limit) => {
      const seen = rows.filter((row) => BigInt(row.seq) > BigInt(after)).slice(0, limit)
      return await s.schedule(Promise.resolve(seen))
    })
    /** What each stream has been sent, and the newest number announced so far. */
    const sent = [0n, 0n, 0n]
    const busy = [false, false, false]
    let announced = 0n
    const problems: string[] = []
    const call = (stream: number): void => {
      if (busy[stream] === true) return
      busy[stream] = true
      const from = sent[stream] as bigint
      const owed = announced
      feed.after(String(from)).then((got) => {
        let expected = from
        for (const row of got) {
          if (BigInt(row.seq) !== expected + 1n) problems.push(`stream ${stream}: ${row.seq} after ${expected}`)
          expected = BigInt(row.seq)
        }
        if (expected < owed && got.length < STREAM_PAGE) problems.push(`stream ${stream}: called after ${owed} was announced, brought up to ${expected}`)
        sent[stream] = expected
        busy[stream] = false
      }, (error: unknown) => { problems.push(String(error)) })
    }
    // The feed's first read (its adoption) done: the steps exercise the reads that follow.
    const adopted = feed.after('0')
    await s.waitAll()
    await adopted
    for (const next of steps) {
      if (next.kind === 'commit') commit()
      else if (next.kind === 'burst') for (let i = 0; i < next.count; i++) commit()
      else if (next.kind === 'announce-named') { if (newest() > 0n) { announced = newest(); feed.announce(newest()) } } else if (next.kind === 'announce-unnamed') { announced = newest(); feed.announce() } else if (next.kind === 'stream') call(next.stream)
      else if (s.count() > 0) await s.waitOne()
    }
    // Every read back, and every call's continuation run (a call served from the window needs no read).
    do {
      await s.waitAll()
      await new Promise((resolve) => setImmediate(resolve))
    } while (s.count() > 0)
    return problems.length === 0 || (() => { throw new Error(problems.join('\n')) })()
  }), { numRuns: 1000 })
  t.pass('1,000 interleavings')
})

t.test('parked streams: the rows each read brings are handed to the streams waiting at the head, in order, none twice, none missed', async (t) => {
  const step = fc.oneof(...logSteps, fc.record({ kind: fc.constant('heartbeat' as const), stream: fc.integer({ min: 0, max: 2 }) }))
  await fc.assert(fc.asyncProperty(fc.scheduler(), fc.array(step, { minLength: 1, maxLength: 60 }), async (s, steps) => {
    const { rows, commit, newest } = log()
    const feed = new UserFeed(async (after, limit) => {
      const seen = rows.filter((row) => BigInt(row.seq) > BigInt(after)).slice(0, limit)
      return await s.schedule(Promise.resolve(seen))
    })
    const problems: string[] = []
    /** A stream as routes/events.ts runs it: a loop that reads, then parks at the head while it waits. */
    const streams = [0, 1, 2].map((index) => {
      const stream = {
        sent: 0n,
        busy: false,
        /** Woken while its loop was busy: it looks again when done. */
        again: false,
        check (got: EventRow[]): void {
          for (const row of got) {
            if (BigInt(row.seq) !== stream.sent + 1n) problems.push(`stream ${index}: ${row.seq} after ${stream.sent}`)
            stream.sent = BigInt(row.seq)
          }
        },
        subscriber: {
          take: (got: EventRow[]) => {
            stream.check(got)
            if (!feed.park(stream.subscriber, stream.sent)) stream.loop()
          },
          wake: () => { stream.loop() }
        },
        loop (): void {
          feed.unpark(stream.subscriber)
          if (stream.busy) { stream.again = true; return }
          stream.busy = true
          feed.after(String(stream.sent)).then((got) => {
            stream.check(got)
            stream.busy = false
            if (got.length === STREAM_PAGE || stream.again) { stream.again = false; stream.loop(); return }
            feed.park(stream.subscriber, stream.sent)
          }, (error: unknown) => { problems.push(String(error)) })
        }
      }
      return stream
    })
    /** Everything committed before the last announcement: each stream owes it without another. */
    let owed = 0n
    /** The hub: the feed reads for parked streams; the others are woken. */
    const announce = (seq?: bigint): void => {
      owed = newest()
      feed.announce(seq)
      for (const stream of streams) if (!feed.isParked(stream.subscriber)) stream.loop()
    }
    for (const stream of streams) stream.loop()
    await s.waitAll()
    for (const next of steps) {
      if (next.kind === 'commit') commit()
      else if (next.kind === 'burst') for (let i = 0; i < next.count; i++) commit()
      else if (next.kind === 'announce-named') { if (newest() > 0n) announce(newest()) } else if (next.kind === 'announce-unnamed') announce()
      else if (next.kind === 'heartbeat') { const stream = streams[next.stream] as typeof streams[number]; feed.recheck(0); stream.loop() } else if (s.count() > 0) await s.waitOne()
    }
    const settle = async (): Promise<void> => {
      do {
        await s.waitAll()
        await new Promise((resolve) => setImmediate(resolve))
      } while (s.count() > 0)
    }
    // Every read back: each stream has what was announced, with no announcement more.
    await settle()
    for (const [index, stream] of streams.entries()) {
      if (stream.sent < owed) problems.push(`stream ${index} stopped at ${stream.sent}; ${owed} was announced`)
    }
    // Everything committed is announced once more: each stream has all of it.
    announce()
    await settle()
    for (const [index, stream] of streams.entries()) {
      if (stream.sent !== newest()) problems.push(`stream ${index} ended at ${stream.sent} of ${newest()}`)
    }
    return problems.length === 0 || (() => { throw new Error(problems.join('\n')) })()
  }), { numRuns: 1000 })
  t.pass('1,000 interleavings')
})

t.test('a parked stream is not left behind by a read that began before the commit announced during it', async (t) => {
  const { feed, reads, commit } = await adoptedFeed()
  const taken: string[] = []
  const subscriber = {
    take: (rows: EventRow[]) => { taken.push(...seqs(rows)); feed.park(subscriber, BigInt(taken.at(-1) as string)) },
    wake: () => { t.fail('no read failed') }
  }
  t.ok(feed.park(subscriber, 0n), 'parked at the head')
  feed.announce()
  t.equal(reads.count(), 2, 'the feed reads for its parked stream')
  // That read saw nothing; event 1 commits and is announced while it is out.
  const seq = commit()
  feed.announce(seq)
  reads.release()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(reads.count(), 3, 'the feed reads again, with nobody asking')
  reads.release()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(taken, ['1'], 'and hands the event over')
  t.ok(feed.isParked(subscriber), 'the stream is parked at the new head')
  t.notOk(feed.park(subscriber, 0n), 'a stream behind the head is not kept')
})

t.test('a parked stream that fails to take its rows is woken; the others get theirs', async (t) => {
  const { feed, reads, commit } = await adoptedFeed()
  let woken = 0
  const failing = { take: () => { throw new Error('cannot format') }, wake: () => { woken++ } }
  const taken: string[] = []
  const healthy = { take: (rows: EventRow[]) => { taken.push(...seqs(rows)) }, wake: () => { t.fail('not woken') } }
  feed.park(failing, 0n)
  feed.park(healthy, 0n)
  feed.announce(commit())
  reads.release()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(woken, 1, 'its loop is woken to meet the failure')
  t.same(taken, ['1'], 'the other stream has the event')
})
