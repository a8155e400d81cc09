import t from 'tap'
import { findUnsafeStrings, isSafeText } from '../../src/domain/safe-text.js'

t.test('isSafeText', async (t) => {
  t.ok(isSafeText('plain'))
  t.ok(isSafeText('emoji 🎉 and accents é'), 'paired surrogates are fine')
  t.notOk(isSafeText('a\u0000b'), 'NUL')
  t.notOk(isSafeText('\uD800'), 'lone high surrogate')
  t.notOk(isSafeText('x\uDC00'), 'lone low surrogate')
  t.notOk(isSafeText('\uDC00\uD800'), 'reversed pair')
})

t.test('findUnsafeStrings points at values and keys', async (t) => {
  t.same(findUnsafeStrings({ a: 'ok', b: ['x', 'y\u0000'], 'c/\uD800~': 1 }).sort(), ['/b/1', '/c~1\uD800~0'])
  t.same(findUnsafeStrings('\u0000'), [''])
  t.same(findUnsafeStrings(null), [])
})

t.test('findUnsafeStrings walks very deep values without overflowing the stack', async (t) => {
  let deep: unknown = 'bad\u0000'
  for (let i = 0; i < 200_000; i++) deep = [deep]
  t.equal(findUnsafeStrings(deep).length, 1)
})
