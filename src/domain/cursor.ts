/**
 * Opaque, tamper-evident list cursors. A cursor holds the position after the last row of a
 * page (its sort key, as PostgreSQL printed it, and its id) and a fingerprint of the query it
 * belongs to (user, filters, sort, order), signed with HMAC-SHA256. Decoding tells a forged
 * or corrupted cursor from one issued for another query; both are the client's error.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export interface CursorPosition {
  /** The sort key of the last row, as text (null never occurs: keys are coalesced). */
  key: string
  id: string
}

export type CursorProblem = 'tampered' | 'mismatch'

/** A stable digest of everything a cursor is bound to. */
export function queryFingerprint (userId: string, query: Record<string, unknown>): string {
  const canonical = JSON.stringify([userId, Object.keys(query).sort().map((k) => [k, query[k] ?? null])])
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22)
}

const sign = (payload: string, secret: string): Buffer => createHmac('sha256', secret).update(payload).digest()

export function encodeCursor (position: CursorPosition, fingerprint: string, secret: string): string {
  const payload = Buffer.from(JSON.stringify({ k: position.key, i: position.id, f: fingerprint })).toString('base64url')
  return `${payload}.${sign(payload, secret).toString('base64url')}`
}

export function decodeCursor (cursor: string, fingerprint: string, secret: string): CursorPosition | CursorProblem {
  const [payload, signature, ...rest] = cursor.split('.')
  if (payload === undefined || signature === undefined || rest.length > 0) return 'tampered'
  // The signature is compared as issued, character for character: decoding it first would let
  // other spellings of the same bytes through (base64 padding, `+`/`/`, unused trailing bits).
  const expected = Buffer.from(sign(payload, secret).toString('base64url'))
  const given = Buffer.from(signature)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'tampered'
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    return 'tampered'
  }
  if (decoded === null || typeof decoded !== 'object') return 'tampered'
  const { k, i, f } = decoded as { k?: unknown, i?: unknown, f?: unknown }
  if (typeof k !== 'string' || typeof i !== 'string' || typeof f !== 'string') return 'tampered'
  if (f !== fingerprint) return 'mismatch'
  return { key: k, id: i }
}
