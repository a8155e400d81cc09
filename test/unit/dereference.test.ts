import t from 'tap'
import { dereference } from '../../src/contract/dereference.js'

t.test('dereference', async (t) => {
  t.test('inlines $refs and keeps annotation siblings', async (t) => {
    const doc = { a: { type: 'string', maxLength: 3 }, b: { $ref: '#/a', default: 'x', readOnly: true } }
    t.same(dereference(doc).b, { type: 'string', maxLength: 3, default: 'x', readOnly: true })
  })
  t.test('keeps validating siblings as an intersection', async (t) => {
    const doc = { a: { type: 'string', maxLength: 3 }, b: { $ref: '#/a', minLength: 2 } }
    t.same(dereference(doc).b, { allOf: [{ type: 'string', maxLength: 3 }], minLength: 2 })
  })
  t.test('follows nested refs and escaped pointers', async (t) => {
    const doc = { 'x/y': { c: { type: 'integer' } }, d: { $ref: '#/e' }, e: { $ref: '#/x~1y/c' } }
    t.same(dereference(doc).d, { type: 'integer' })
  })
  t.test('refuses recursive and remote refs', async (t) => {
    t.throws(() => dereference({ a: { $ref: '#/a' } }), /recursive/)
    t.throws(() => dereference({ a: { $ref: 'other.yaml#/a' } }), /local/)
  })
})
