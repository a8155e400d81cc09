/**
 * Bearer token verification with fast-jwt, configured as API.md says. Returns the caller's
 * identity or throws a TokenRejected with a reason safe to show the client.
 * RFC 8725: algorithms are pinned to the key type (config.ts), `none` never passes, `exp`
 * and `sub` are required, `nbf` and `iat` may not lie in the future beyond the tolerance.
 */
import { createVerifier, TokenError } from 'fast-jwt'
import type { ResolvedConfig } from '../config.js'
import { isSafeText } from '../domain/safe-text.js'
import { createJwksKeyResolver, type KeyResolver, SigningKeyNotFound } from './jwks.js'

export interface Identity {
  id: string
  email: string | undefined
  name: string | undefined
}

export class TokenRejected extends Error {
  override name = 'TokenRejected'
}

/** The issuer's keys could not be fetched: not the client's fault (answered 503). */
export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable'
}

const REASONS: Partial<Record<string, string>> = {
  [TokenError.codes.expired]: 'The token has expired.',
  [TokenError.codes.inactive]: 'The token is not valid yet.',
  [TokenError.codes.invalidSignature]: 'The token signature is invalid.',
  [TokenError.codes.invalidAlgorithm]: 'The token algorithm is not allowed.',
  [TokenError.codes.malformed]: 'The token is malformed.',
  [TokenError.codes.invalidType]: 'The token is malformed.',
  [TokenError.codes.missingRequiredClaim]: 'The token lacks a required claim (exp, sub).',
  [TokenError.codes.invalidClaimValue]: 'A token claim (iss, aud) has a value that is not accepted.',
  [TokenError.codes.invalidClaimType]: 'A token claim has the wrong type.',
  [TokenError.codes.missingKey]: 'The token was signed with an unknown key.'
}

export type TokenVerifier = (token: string) => Promise<Identity>

export function createTokenVerifier (jwt: ResolvedConfig['jwt']): TokenVerifier {
  let key: string | ((decoded: { header: { kid?: string, alg?: string } }) => Promise<string>)
  switch (jwt.key.kind) {
    case 'secret': key = jwt.key.secret; break
    case 'public-key': key = jwt.key.pem; break
    case 'jwks': {
      const resolveKey: KeyResolver = createJwksKeyResolver(jwt.key.url, { cooldownMs: jwt.key.cooldownMs, timeoutMs: jwt.key.timeoutMs })
      key = async (decoded) => await resolveKey(decoded.header)
      break
    }
  }
  const toleranceMs = jwt.clockToleranceSeconds * 1000
  const verify = createVerifier({
    key: typeof key === 'string' ? async () => key as string : key,
    algorithms: jwt.algorithms as never,
    allowedIss: jwt.issuer,
    allowedAud: jwt.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: toleranceMs,
    // A token verified once is trusted until it expires: skips the signature on repeats.
    cache: 1000
  }) as (token: string) => Promise<Record<string, unknown>>

  return async (token) => {
    let payload: Record<string, unknown>
    try {
      payload = await verify(token)
    } catch (error) {
      const { code, originalError } = error as { code?: string, originalError?: unknown }
      if (code === TokenError.codes.keyFetchingError) {
        if (originalError instanceof SigningKeyNotFound) throw new TokenRejected('The token was signed with an unknown key.')
        throw new KeysUnavailable('The identity provider\'s signing keys cannot be fetched.', { cause: originalError })
      }
      throw new TokenRejected((code !== undefined && REASONS[code]) || 'The token was rejected.')
    }
    const { sub, exp, iat, email, name } = payload
    if (typeof exp !== 'number') throw new TokenRejected('The token lacks a numeric exp claim.')
    // fast-jwt checks iat only against maxAge; a token "issued in the future" is refused here.
    if (typeof iat === 'number' && iat * 1000 > Date.now() + toleranceMs) throw new TokenRejected('The token was issued in the future.')
    if (typeof sub !== 'string' || [...sub].length < 1 || [...sub].length > 255 || !isSafeText(sub)) {
      throw new TokenRejected('The token sub claim must be a string of 1 to 255 characters.')
    }
    // Optional profile claims the database cannot store faithfully are ignored, not fatal.
    const usable = (value: unknown): string | undefined => typeof value === 'string' && isSafeText(value) ? value : undefined
    return { id: sub, email: usable(email), name: usable(name) }
  }
}
