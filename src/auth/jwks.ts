/**
 * Signing keys from a JWKS endpoint (JWT_JWKS_URL), chosen by the token's `kid` and cached
 * by get-jwks (10 minutes; a `kid` not in the cache triggers a fresh fetch, so rotated keys are
 * picked up at once, and a failed fetch falls back to the stale copy).
 *
 * Keys are turned into PEM with node:crypto rather than get-jwks' getPublicKey: that uses
 * jwk-to-pem, which knows only RSA and EC keys, not the OKP/Ed25519 keys that EdDSA issuers
 * such as Better Auth publish.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import buildGetJwks from 'get-jwks'

export type KeyResolver = (header: { kid?: string, alg?: string }) => Promise<string>

/** A kid just found missing is not looked up again for this long: junk kids cannot make us hammer the issuer. */
const MISSING_KID_BACKOFF_MS = 10_000
const CACHE_TTL_MS = 10 * 60_000

export class SigningKeyNotFound extends Error {
  override name = 'SigningKeyNotFound'
}

export function createJwksKeyResolver (jwksUrl: string): KeyResolver {
  const url = new URL(jwksUrl)
  const domain = url.origin + '/'
  const getJwks = buildGetJwks({ jwksPath: url.pathname + url.search, ttl: CACHE_TTL_MS, max: 100, fetchOptions: { timeout: 5_000 } as never })
  const missing = new Map<string, number>()

  return async ({ kid, alg }) => {
    const missKey = `${alg ?? ''}:${kid ?? ''}`
    const missedAt = missing.get(missKey)
    if (missedAt !== undefined && Date.now() - missedAt < MISSING_KID_BACKOFF_MS) throw new SigningKeyNotFound(`no signing key ${kid ?? '(no kid)'}`)
    let jwk: JsonWebKey
    try {
      jwk = await getJwks.getJwk({ domain, alg: alg as string, kid: kid as string }) as JsonWebKey
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code === 'JWK_NOT_FOUND' || code === 'NO_JWKS') {
        if (missing.size > 1000) missing.clear()
        missing.set(missKey, Date.now())
        throw new SigningKeyNotFound(`no signing key ${kid ?? '(no kid)'}`)
      }
      throw error
    }
    missing.delete(missKey)
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
  }
}
