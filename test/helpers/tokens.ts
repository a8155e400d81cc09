/**
 * Real JWTs for tests: HS256 with the test secret by default, and every broken variant a
 * test needs (expired, not yet valid, wrong audience, other secret, …).
 */
import { createHmac, randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long'

export interface TokenOptions {
  secret?: string
  algorithm?: 'HS256' | 'HS384' | 'HS512'
  /** Seconds from now; negative: already expired. */
  expiresIn?: number
  notBefore?: number
  claims?: Record<string, unknown>
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

export function tokenFor (sub: string | undefined, options: TokenOptions = {}): string {
  // The payload's own iat is kept (fast-jwt drops it with noTimestamp, so that is not set).
  const sign = createSigner({ key: options.secret ?? TEST_SECRET, algorithm: options.algorithm ?? 'HS256' })
  const payload: Record<string, unknown> = { iat: nowSeconds(), exp: nowSeconds() + (options.expiresIn ?? 600), ...options.claims }
  if (sub !== undefined) payload.sub = sub
  if (options.notBefore !== undefined) payload.nbf = nowSeconds() + options.notBefore
  return sign(payload)
}

/** A fresh user id: tests never share users, so they never need to clean up. */
export const newUserId = (label = 'user'): string => `${label}-${randomUUID()}`

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` })

/** An HS256 token with exactly this payload, for claims fast-jwt's signer refuses to write. */
export function signRaw (payload: Record<string, unknown>, secret = TEST_SECRET): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}
