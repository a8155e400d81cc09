/**
 * Signing keys from a JWKS endpoint (JWT_JWKS_URL), with jose's createRemoteJWKSet: the whole
 * key set is fetched and cached (10 minutes), a key is chosen by the token's `kid` and `alg`,
 * concurrent lookups share one fetch, and a `kid` not in the set triggers a new fetch only
 * once the cooldown since the last one has passed (JWT_JWKS_COOLDOWN_MS); before that it is
 * refused at once. So a burst of tokens with made-up `kid`s costs at most one fetch, and a
 * rotated key is picked up within the cooldown. A fetch is abandoned after
 * JWT_JWKS_TIMEOUT_MS (an AbortSignal.timeout on fetch, which get-jwks' fetch options did not
 * honour: a provider that accepted and never answered held requests for 45 s and more).
 * When a fetch fails once the cache has expired, the last key set received still serves.
 *
 * fast-jwt wants a PEM: jose's CryptoKey is exported through node:crypto's KeyObject, which
 * knows RSA, EC and OKP (Ed25519, as Better Auth publishes) alike.
 */
import { KeyObject, type webcrypto } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, errors } from 'jose'

export type KeyResolver = (header: { kid?: string, alg?: string }) => Promise<string>

export class SigningKeyNotFound extends Error {
  override name = 'SigningKeyNotFound'
}

export interface JwksOptions {
  cooldownMs: number
  timeoutMs: number
}

const CACHE_MAX_AGE_MS = 10 * 60_000

/** No key of the set fits the token (its kid, or its alg and key type). */
const isNoKey = (error: unknown): boolean =>
  error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported

export function createJwksKeyResolver (jwksUrl: string, { cooldownMs, timeoutMs }: JwksOptions): KeyResolver {
  const remote = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: cooldownMs, timeoutDuration: timeoutMs, cacheMaxAge: CACHE_MAX_AGE_MS })
  const pems = new WeakMap<object, string>()

  const pemOf = (key: webcrypto.CryptoKey): string => {
    let pem = pems.get(key)
    if (pem === undefined) {
      pem = KeyObject.from(key).export({ type: 'spki', format: 'pem' }).toString()
      pems.set(key, pem)
    }
    return pem
  }

  return async ({ kid, alg }) => {
    const header = { ...(kid === undefined ? {} : { kid }), alg: alg ?? '' }
    try {
      return pemOf(await remote(header) as webcrypto.CryptoKey)
    } catch (error) {
      if (isNoKey(error)) throw new SigningKeyNotFound(`no signing key ${kid ?? '(no kid)'}`)
      // The provider cannot be reached: the last key set it gave, if any, still serves.
      const last = remote.jwks()
      if (last === undefined) throw error
      try {
        return pemOf(await createLocalJWKSet(last)(header) as webcrypto.CryptoKey)
      } catch (fallback) {
        if (isNoKey(fallback)) throw new SigningKeyNotFound(`no signing key ${kid ?? '(no kid)'}`)
        throw error
      }
    }
  }
}
