/**
 * src/events/feed-reads.ts: the feeds' log reads gathered into one statement. Each read gets
 * its own answer; reads of a moment share a call; one call is out at a time, and each waits
 * for its gathering; a failed call fails the reads in it and no others. The statement itself
 * (read_stream_feeds) is tested against PostgreSQL in test/repositories/events.test.ts.
 */
import t from 'tap'
import type { EventRow } from '../../src/domain/events.js'
import { FeedReads } from '../../src/events/feed-reads.js'
import type { FeedRead } from '../../src/repositories/events.js'

const row = (userId: string, seq: number): EventRow => ({ user_id: userId, seq: String(seq), type: 'task.updated', occurred_at: '2026-11-29T12:00:00.000Z', data: {} })

/** A statement that answers each read with one row naming it, once `release` is called. */
function heldCalls (): { send: (reads: FeedRead[]) => Promise<EventRow[][]>, calls: FeedRead[][], release: (error?: Error) => void } {
  const calls: FeedRead[][] = []
  const held: Array<(error?: Error) => void> = []
  return {
    calls,
    send: async (reads) => {
      calls.push(reads)
      await new Promise<void>((resolve, reject) => { held.push((error) => { if (error === undefined) resolve(); else reject(error) }) })
      return reads.map((read) => [row(read.userId, Number(read.after) + 1)])
    },
    release: (error) => { held.shift()?.(error) }
  }
}

const tick = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('reads of a moment go in one call, each answered with its own rows', async (t) => {
  const statement = heldCalls()
  const reads = new FeedReads(statement.send, 5)
  const ann = reads.read('ann', '3', 64)
  const bob = reads.read('bob', '7', 200)
  t.equal(statement.calls.length, 0, 'a read waits for others first')
  await tick(20)
  t.same(statement.calls, [[{ userId: 'ann', after: '3', limit: 64 }, { userId: 'bob', after: '7', limit: 200 }]])
  statement.release()
  t.same(await ann, [row('ann', 4)])
  t.same(await bob, [row('bob', 8)])
})

t.test('reads made while a call is out go in the next, sent when it returns', async (t) => {
  const statement = heldCalls()
  const reads = new FeedReads(statement.send, 5)
  const first = reads.read('ann', '1', 64)
  await tick(20)
  const second = reads.read('bob', '1', 64)
  const third = reads.read('ann', '2', 64)
  await tick(20)
  t.equal(statement.calls.length, 1, 'one call out at a time')
  statement.release()
  t.same(await first, [row('ann', 2)])
  await tick(0)
  t.same(statement.calls[1], [{ userId: 'bob', after: '1', limit: 64 }, { userId: 'ann', after: '2', limit: 64 }], 'the waiting reads, together')
  statement.release()
  t.same(await Promise.all([second, third]), [[row('bob', 2)], [row('ann', 3)]])
})

t.test('reads made just before a call returns wait for their own gathering, not a call of their own at once', async (t) => {
  const statement = heldCalls()
  const reads = new FeedReads(statement.send, 60)
  const first = reads.read('ann', '1', 64)
  await tick(80)
  t.equal(statement.calls.length, 1, 'the first call is out')
  const second = reads.read('bob', '1', 64)
  statement.release()
  t.same(await first, [row('ann', 2)])
  await tick(10)
  t.equal(statement.calls.length, 1, 'a read made a moment before the call returned is still gathering')
  const third = reads.read('cyd', '1', 64)
  await tick(90)
  t.same(statement.calls[1], [{ userId: 'bob', after: '1', limit: 64 }, { userId: 'cyd', after: '1', limit: 64 }], 'it went with the reads made during its gathering')
  statement.release()
  t.same(await Promise.all([second, third]), [[row('bob', 2)], [row('cyd', 2)]])
})

t.test('a failed call fails its reads, and the next call goes out', async (t) => {
  const statement = heldCalls()
  const reads = new FeedReads(statement.send, 5)
  const failing = reads.read('ann', '1', 64)
  await tick(20)
  const later = reads.read('bob', '1', 64)
  statement.release(new Error('connection lost'))
  await t.rejects(failing, { message: 'connection lost' })
  // The next call goes once the later read has gathered (5 ms after it was made).
  await tick(20)
  t.equal(statement.calls.length, 2, 'the next call is out')
  statement.release()
  t.same(await later, [row('bob', 2)], 'a read after the failure is answered')
})

t.test('an answer missing for a read fails that read', async (t) => {
  const reads = new FeedReads(async () => [], 1)
  await t.rejects(reads.read('ann', '1', 64), /unanswered/)
})

t.test('a call of several that fails is sent again read by read: only the read that fails it fails', async (t) => {
  const calls: string[][] = []
  const reads = new FeedReads(async (batch) => {
    calls.push(batch.map((read) => read.userId))
    if (batch.some((read) => read.userId === 'mallory')) throw new Error('statement timeout')
    return batch.map((read) => [row(read.userId, Number(read.after) + 1)])
  }, 5)
  const ann = reads.read('ann', '1', 64)
  const mallory = reads.read('mallory', '1', 64)
  const bob = reads.read('bob', '4', 64)
  t.same(await ann, [row('ann', 2)], 'a read of another user is answered')
  t.same(await bob, [row('bob', 5)])
  await t.rejects(mallory, { message: 'statement timeout' }, 'the read that fails the call fails alone')
  t.same(calls, [['ann', 'mallory', 'bob'], ['ann'], ['mallory'], ['bob']])
})

t.test('closing fails the reads not yet sent, and any read after', async (t) => {
  const statement = heldCalls()
  const reads = new FeedReads(statement.send, 5)
  const waiting = reads.read('ann', '1', 64)
  reads.close()
  await t.rejects(waiting, /closing/)
  await t.rejects(reads.read('bob', '1', 64), /closing/)
  await tick(20)
  t.equal(statement.calls.length, 0, 'nothing was sent')
})
