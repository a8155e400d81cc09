/**
 * src/domain/request-hash.ts: a retry with the same JSON body, however serialised, has the
 * same hash; any other body has another.
 */
import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import { requestHash } from '../../src/domain/request-hash.js'
import { holds } from '../helpers/properties.js'

/** The same value with every object's members in reverse order, at every depth. */
function reordered (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reordered(v)]))
  }
  return value
}

// Bodies as the parser hands them over: JSON.parse turns -0 into 0 after a round trip.
const body = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown)

t.test('ignores the order of members, at every depth', async (t) => {
  t.equal(
    requestHash({ title: 'x', tags: ['a'], meta: { b: 1, a: [{ y: 2, x: 1 }] } }),
    requestHash({ meta: { a: [{ x: 1, y: 2 }], b: 1 }, tags: ['a'], title: 'x' })
  )
  holds(t, fc.property(body, (value) => requestHash(reordered(value)) === requestHash(value)), 'any body, members reversed')
})

t.test('keeps the order of array elements', async (t) => {
  t.not(requestHash({ tags: ['a', 'b'] }), requestHash({ tags: ['b', 'a'] }))
  holds(t, fc.property(fc.array(body, { minLength: 2 }), (list) => {
    const reversed = [...list].reverse()
    return isDeepStrictEqual(reversed, list) || requestHash(reversed) !== requestHash(list)
  }), 'a reversed array is another body unless it reads the same')
})

t.test('ignores members whose value is undefined', async (t) => {
  t.equal(requestHash({ title: 'x', description: undefined }), requestHash({ title: 'x' }))
  t.equal(requestHash({ a: { b: undefined, c: 1 } }), requestHash({ a: { c: 1 } }), 'nested too')
})

t.test('tells null from an absent member', async (t) => {
  // In a merge patch {"due_at": null} clears the date and {} leaves it: different requests.
  t.not(requestHash({ due_at: null }), requestHash({}))
})

t.test('gives different bodies different hashes', async (t) => {
  const distinct = [
    null, true, false, 0, 1, -1, 1.5, '', '1', 'true', 'null', [], {}, [null], [[]], [{}], { a: null }, { a: 1 }, { a: '1' },
    { b: 1 }, { a: [1] }, { a: { b: 1 } }, { 'a,b': 1 }, { a: 1, b: 2 }, { 'a":1,"b': 2 }, ['a', 'b'], ['a,b'], 'é', 'e\u0301'
  ]
  const hashes = new Map<string, unknown>()
  for (const value of distinct) {
    const hash = requestHash(value)
    t.notOk(hashes.has(hash), `${JSON.stringify(value)} has a hash of its own`)
    hashes.set(hash, value)
  }
  holds(t, fc.property(body, body, (a, b) =>
    requestHash(a) !== requestHash(b) || isDeepStrictEqual(a, b)), 'equal hashes only for equal bodies', { numRuns: 500 })
})

t.test('gives a stable SHA-256 hex digest of the canonical body', async (t) => {
  const hash = requestHash({ title: 'Buy milk', tags: ['errands', 'home'], due_at: null, priority: 'high' })
  t.match(hash, /^[0-9a-f]{64}$/)
  t.equal(hash, createHash('sha256').update('{"due_at":null,"priority":"high","tags":["errands","home"],"title":"Buy milk"}').digest('hex'),
    'compact JSON with members sorted')
  // Pinned: stored hashes outlive a deploy (24 hours), and a changed digest would turn every
  // retry across the deploy into a 422 for a "different" body.
  t.equal(hash, '308d88fe5c297797cd4ca6bfcd45b20f89b478afa0933db958b5bc3112cab856')
})
