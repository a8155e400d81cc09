/**
 * src/domain/cursor.ts: list cursors give back their position only to the query they were
 * issued for, and refuse anything this service did not sign.
 */
import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { type CursorPosition, decodeCursor, encodeCursor, queryFingerprint } from '../../src/domain/cursor.js'
import { holds } from '../helpers/properties.js'

const SECRET = 'cursor-test-secret'
const position: CursorPosition = { key: '2026-01-10 09:30:00.12+00', id: '6f1c1f5e-8d5b-4a57-9a3e-2d9c6f7b8a10' }

// The shape src/routes/tasks.ts binds a cursor to: every list parameter but limit and cursor.
const query = {
  status: 'all',
  priority: 'high',
  categoryId: undefined,
  tag: 'home',
  q: undefined,
  dueAfter: '2026-01-01T00:00:00Z',
  dueBefore: undefined,
  sort: 'due_at',
  order: 'asc'
}
const fingerprint = queryFingerprint('alice', query)
const cursor = encodeCursor(position, fingerprint, SECRET)

/** A payload signed with the real secret: only a holder of the secret could make one. */
const signed = (payloadText: string, secret = SECRET): string => {
  const payload = Buffer.from(payloadText).toString('base64url')
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`
}

// Any string, lone surrogates included: keys and ids are whatever PostgreSQL printed.
const anyText = fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))) })
const cursorAndEdit = fc.record({ index: fc.nat(), replacement: fc.constantFrom(...'AZaz09-_+/=.!% ~'.split('')) })

/** The cursor with one character replaced by another, or undefined when it would be the same. */
function edited (text: string, index: number, replacement: string): string | undefined {
  const i = index % text.length
  return text[i] === replacement ? undefined : text.slice(0, i) + replacement + text.slice(i + 1)
}

t.test('round trip', async (t) => {
  t.test('gives back the position it was issued with', async (t) => {
    t.same(decodeCursor(cursor, fingerprint, SECRET), position)
  })

  t.test('gives back any key and id, whatever characters they hold', async (t) => {
    holds(t, fc.property(anyText, anyText, anyText, (key, id, userId) => {
      const fp = queryFingerprint(userId, query)
      const decoded = decodeCursor(encodeCursor({ key, id }, fp, SECRET), fp, SECRET)
      return typeof decoded === 'object' && decoded.key === key && decoded.id === id
    }), 'decode(encode(position)) is the position')
  })

  t.test('is URL-safe text that needs no escaping in a query string', async (t) => {
    holds(t, fc.property(anyText, anyText, (key, id) =>
      /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(encodeCursor({ key, id }, fingerprint, SECRET))), 'base64url payload, a dot, base64url signature')
  })
})

t.test('tampering', async (t) => {
  const [payload, signature] = cursor.split('.') as [string, string]

  t.test('refuses a payload rewritten to another position under the original signature', async (t) => {
    const forged = Buffer.from(JSON.stringify({ k: '9999-12-31', i: position.id, f: fingerprint })).toString('base64url')
    t.equal(decodeCursor(`${forged}.${signature}`, fingerprint, SECRET), 'tampered')
  })

  t.test('refuses the signature of another cursor', async (t) => {
    const other = encodeCursor({ key: position.key, id: '00000000-0000-0000-0000-000000000000' }, fingerprint, SECRET)
    t.equal(decodeCursor(`${payload}.${other.split('.')[1] as string}`, fingerprint, SECRET), 'tampered')
  })

  t.test('refuses every truncation of a cursor', async (t) => {
    const accepted = []
    for (let length = 0; length < cursor.length; length++) {
      if (decodeCursor(cursor.slice(0, length), fingerprint, SECRET) !== 'tampered') accepted.push(length)
    }
    t.same(accepted, [], 'no prefix is accepted')
  })

  t.test('refuses extra dots anywhere', async (t) => {
    for (const text of [`${cursor}.`, `${cursor}.${signature}`, `.${cursor}`, `${payload}..${signature}`, `${payload.slice(0, 5)}.${payload.slice(5)}.${signature}`]) {
      t.equal(decodeCursor(text, fingerprint, SECRET), 'tampered', JSON.stringify(text))
    }
  })

  t.test('refuses text that is not a cursor at all', async (t) => {
    for (const text of ['', '.', 'not a cursor', '!!!.???', '{"k":"a","i":"b","f":"c"}', `${payload}.${'A'.repeat(43)}`, `${payload}.`]) {
      t.equal(decodeCursor(text, fingerprint, SECRET), 'tampered', JSON.stringify(text))
    }
  })

  t.test('refuses a validly signed payload that is not JSON', async (t) => {
    t.equal(decodeCursor(signed('not json'), fingerprint, SECRET), 'tampered')
    t.equal(decodeCursor(signed('{"k":"a","i":"b","f":'), fingerprint, SECRET), 'tampered', 'cut-off JSON')
  })

  t.test('refuses a validly signed object with missing or mistyped fields', async (t) => {
    const objects = [
      {},
      { k: 'a', i: 'b' },
      { k: 1, i: 'b', f: fingerprint },
      { k: 'a', i: null, f: fingerprint },
      { k: 'a', i: 'b', f: ['x'] },
      { key: 'a', id: 'b', f: fingerprint }
    ]
    for (const object of objects) {
      t.equal(decodeCursor(signed(JSON.stringify(object)), fingerprint, SECRET), 'tampered', JSON.stringify(object))
    }
  })

  t.test('refuses a validly signed JSON value that is not an object', async (t) => {
    for (const value of ['[]', '"text"', '42', 'true']) {
      t.equal(decodeCursor(signed(value), fingerprint, SECRET), 'tampered', value)
    }
  })

  t.test('refuses a validly signed JSON null instead of throwing', async (t) => {
    let outcome: unknown
    try {
      outcome = decodeCursor(signed('null'), fingerprint, SECRET)
    } catch (error) {
      outcome = error
    }
    t.equal(outcome, 'tampered', 'refused')
  })

  t.test('refuses a cursor signed with another secret', async (t) => {
    t.equal(decodeCursor(encodeCursor(position, fingerprint, 'another-secret'), fingerprint, SECRET), 'tampered')
    t.equal(decodeCursor(cursor, fingerprint, 'another-secret'), 'tampered', 'nor is ours accepted under a rotated secret')
    t.equal(decodeCursor(encodeCursor(position, 'other-query', 'another-secret'), fingerprint, SECRET), 'tampered',
      'the signature is checked before the binding')
  })

  t.test('refuses any single-character change of the payload', async (t) => {
    holds(t, fc.property(anyText, anyText, cursorAndEdit, (key, id, { index, replacement }) => {
      const original = encodeCursor({ key, id }, fingerprint, SECRET)
      const payloadLength = original.indexOf('.')
      const changed = edited(original.slice(0, payloadLength), index, replacement)
      return changed === undefined || decodeCursor(changed + original.slice(payloadLength), fingerprint, SECRET) === 'tampered'
    }), 'every edit of the payload is refused', { numRuns: 500 })
  })

  t.test('never yields another position after any single-character change', async (t) => {
    holds(t, fc.property(anyText, anyText, cursorAndEdit, (key, id, { index, replacement }) => {
      const original = encodeCursor({ key, id }, fingerprint, SECRET)
      const changed = edited(original, index, replacement)
      if (changed === undefined) return true
      const decoded = decodeCursor(changed, fingerprint, SECRET)
      return typeof decoded === 'string' || (decoded.key === key && decoded.id === id)
    }), 'an edit is refused or, at worst, changes nothing', { numRuns: 500 })
  })

  t.test('refuses any single-character change of the whole cursor', async (t) => {
    const accepted = []
    for (let i = 0; i < cursor.length; i++) {
      for (const replacement of 'AZaz09-_+/=!'.split('')) {
        const changed = edited(cursor, i, replacement)
        if (changed !== undefined && decodeCursor(changed, fingerprint, SECRET) !== 'tampered') accepted.push(changed)
      }
    }
    for (const extra of [`${cursor}=`, `${cursor}!`]) {
      if (decodeCursor(extra, fingerprint, SECRET) !== 'tampered') accepted.push(extra)
    }
    t.same(accepted, [], 'only the cursor as issued is accepted')
  })
})

t.test('binding', async (t) => {
  t.test('refuses a cursor issued for another query as a mismatch, not as forged', async (t) => {
    t.equal(decodeCursor(cursor, queryFingerprint('alice', { ...query, order: 'desc' }), SECRET), 'mismatch')
  })

  t.test('refuses a cursor issued to another user', async (t) => {
    t.equal(decodeCursor(cursor, queryFingerprint('bob', query), SECRET), 'mismatch')
  })

  t.test('binds to the user id: different users, different fingerprints', async (t) => {
    holds(t, fc.property(anyText, anyText, (a, b) =>
      a === b || queryFingerprint(a, query) !== queryFingerprint(b, query)), 'distinct users never share a fingerprint')
    t.not(queryFingerprint('ab', { c: 'd' }), queryFingerprint('a', { bc: 'd' }), 'user id and query do not run together')
  })

  t.test('binds to every query field', async (t) => {
    for (const field of Object.keys(query)) {
      const base = queryFingerprint('alice', query)
      t.not(queryFingerprint('alice', { ...query, [field]: 'changed' }), base, `${field} changed`)
    }
    t.not(queryFingerprint('alice', { ...query, tag: 'home', q: undefined }), queryFingerprint('alice', { ...query, tag: undefined, q: 'home' }),
      'the same value under another field is another query')
  })

  t.test('binds to field values by type', async (t) => {
    t.not(queryFingerprint('alice', { limit: 1 }), queryFingerprint('alice', { limit: '1' }))
  })

  t.test('ignores the order of the query object\'s keys', async (t) => {
    const reversed = Object.fromEntries(Object.entries(query).reverse())
    t.equal(queryFingerprint('alice', reversed), fingerprint)
    t.same(decodeCursor(cursor, queryFingerprint('alice', reversed), SECRET), position, 'a cursor from one order decodes under the other')
  })

  t.test('treats an undefined field and a null field as the same query', async (t) => {
    const withNulls = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v ?? null]))
    t.equal(queryFingerprint('alice', withNulls), fingerprint)
  })

  t.test('gives a short, URL-safe, deterministic fingerprint', async (t) => {
    t.equal(queryFingerprint('alice', query), fingerprint)
    t.match(fingerprint, /^[A-Za-z0-9_-]{22}$/)
  })
})
