/**
 * src/domain/etag.ts: the ETag a task is served with, and how If-Match and If-None-Match
 * headers are read (RFC 9110 §8.8.3, §13.1.1, §13.1.2).
 */
import fc from 'fast-check'
import t from 'tap'
import { etagFor, ifMatchVersions, ifNoneMatchHits, parseEntityTags } from '../../src/domain/etag.js'
import { holds } from '../helpers/properties.js'

// task.version is a PostgreSQL integer, starting at 1.
const version = fc.integer({ min: 1, max: 2 ** 31 - 1 })

t.test('etagFor', async (t) => {
  t.test('quotes the version as a strong entity tag', async (t) => {
    t.equal(etagFor(1), '"1"')
    t.equal(etagFor(2147483647), '"2147483647"')
  })

  t.test('is accepted back by If-Match and If-None-Match for the same version only', async (t) => {
    holds(t, fc.property(version, (v) => {
      const matched = ifMatchVersions(etagFor(v))
      return Array.isArray(matched) && matched.length === 1 && matched[0] === v &&
        ifNoneMatchHits(etagFor(v), v) && !ifNoneMatchHits(etagFor(v), v + 1)
    }), 'a served ETag sent back names its version')
  })
})

t.test('parseEntityTags', async (t) => {
  t.test('reads `*`, with or without surrounding whitespace', async (t) => {
    t.equal(parseEntityTags('*'), '*')
    t.equal(parseEntityTags(' \t* '), '*')
  })

  t.test('reads a list of strong and weak tags in order', async (t) => {
    t.same(parseEntityTags('"1", W/"2","abc"'), [
      { weak: false, opaque: '1' },
      { weak: true, opaque: '2' },
      { weak: false, opaque: 'abc' }
    ])
  })

  t.test('ignores optional whitespace around members', async (t) => {
    t.same(parseEntityTags(' \t"1"\t ,  W/"2"  '), [{ weak: false, opaque: '1' }, { weak: true, opaque: '2' }])
  })

  t.test('reads the empty tag and the characters RFC 9110 allows inside one', async (t) => {
    t.same(parseEntityTags('""'), [{ weak: false, opaque: '' }])
    t.same(parseEntityTags('"!#~\x80\xff"'), [{ weak: false, opaque: '!#~\x80\xff' }])
  })

  t.test('drops malformed members and keeps the rest', async (t) => {
    const malformed = ['1', '"1', '1"', 'w/"1"', 'W/ "1"', 'W/1', '"a"b"', '"a b"', '"tab\there"', '"x"y', '*', '']
    for (const member of malformed) {
      t.same(parseEntityTags(`${member}, "7"`), [{ weak: false, opaque: '7' }], JSON.stringify(member))
    }
  })

  t.test('gives an empty list for an empty or entirely malformed header', async (t) => {
    t.same(parseEntityTags(''), [])
    t.same(parseEntityTags('   '), [])
    t.same(parseEntityTags('abc, 1, W/2'), [])
  })
})

t.test('ifMatchVersions', async (t) => {
  t.test('is undefined without the header', async (t) => {
    t.equal(ifMatchVersions(undefined), undefined)
  })

  t.test('accepts any version for `*`', async (t) => {
    t.equal(ifMatchVersions('*'), '*')
  })

  t.test('lists the versions of the strong tags', async (t) => {
    t.same(ifMatchVersions('"3"'), [3])
    t.same(ifMatchVersions('"3", "5" ,"12"'), [3, 5, 12])
    t.same(ifMatchVersions('"2147483647"'), [2147483647], 'the largest version')
  })

  t.test('ignores weak tags: If-Match uses the strong comparison', async (t) => {
    t.same(ifMatchVersions('W/"3"'), [])
    t.same(ifMatchVersions('W/"3", "4"'), [4])
  })

  t.test('ignores tags that cannot be a version', async (t) => {
    for (const opaque of ['abc', '0', '03', '-1', '+1', '1.0', '1e3', ' 1', '', '12345678901', '99999999999999999999']) {
      t.same(ifMatchVersions(`"${opaque}", "8"`), [8], JSON.stringify(opaque))
    }
  })

  t.test('accepts nothing when no member is usable', async (t) => {
    t.same(ifMatchVersions(''), [])
    t.same(ifMatchVersions('W/"1", "x", 2'), [])
  })
})

t.test('ifNoneMatchHits', async (t) => {
  t.test('misses without the header', async (t) => {
    t.equal(ifNoneMatchHits(undefined, 1), false)
  })

  t.test('hits any version for `*`', async (t) => {
    holds(t, fc.property(version, (v) => ifNoneMatchHits('*', v)), '`*` matches every current task')
  })

  t.test('hits a strong or a weak tag of the version: the weak comparison', async (t) => {
    t.equal(ifNoneMatchHits('"3"', 3), true)
    t.equal(ifNoneMatchHits('W/"3"', 3), true)
    t.equal(ifNoneMatchHits('"1", W/"3"', 3), true, 'anywhere in the list')
  })

  t.test('misses other versions and look-alikes', async (t) => {
    t.equal(ifNoneMatchHits('"4"', 3), false)
    t.equal(ifNoneMatchHits('W/"4", "2"', 3), false)
    t.equal(ifNoneMatchHits('"03"', 3), false, 'a leading zero is another tag')
    t.equal(ifNoneMatchHits('"3', 3), false, 'malformed')
    t.equal(ifNoneMatchHits('3', 3), false, 'unquoted')
    t.equal(ifNoneMatchHits('', 3), false, 'empty')
  })
})
