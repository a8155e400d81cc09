/**
 * Authentication of every operation whose contract `security` asks for a bearer token: an
 * `onRequest` hook (so it runs before body parsing and validation: a request without a valid
 * token is 401 whatever else is wrong with it).
 * Verifies the bearer token (src/auth/verifier), sets `request.user`, and creates or
 * refreshes the user row at most once per sub and claims per process per minute. Decorates
 * the instance with `forgetUser(id)`, for an account deleted meanwhile.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isAuthenticatedRoute } from '../contract/route-contract.js'
import { ApiProblem } from '../errors.js'
import { type Identity, KeysUnavailable, TokenRejected, type TokenVerifier } from '../auth/verifier.js'
import * as users from '../repositories/users.js'

declare module 'fastify' {
  interface FastifyRequest {
    user: { id: string }
  }
  interface FastifyInstance {
    /** Forgets that the user's row was made (their account was deleted): the next request makes it again. */
    forgetUser: (userId: string) => void
  }
}

export interface AuthPluginOptions {
  verifyToken: TokenVerifier
}

const BEARER = /^Bearer +([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*)$/i
const UPSERT_TTL_MS = 60_000
const UPSERT_CACHE_MAX = 10_000

function unauthorized (detail: string, tokenSent: boolean): ApiProblem {
  // RFC 6750 §3: error="invalid_token" only when a token was sent.
  const challenge = tokenSent ? 'Bearer realm="todo-contract", error="invalid_token"' : 'Bearer realm="todo-contract"'
  return new ApiProblem('unauthorized', detail, { headers: { 'www-authenticate': challenge } })
}

const auth: FastifyPluginAsync<AuthPluginOptions> = async (app, { verifyToken }) => {
  // sub → claims last written and when; an optimisation only (the upsert is idempotent).
  const upserted = new Map<string, { claims: string, at: number }>()

  async function rememberUser (identity: Identity): Promise<void> {
    const claims = `${identity.email ?? ''}\u0000${identity.name ?? ''}`
    const seen = upserted.get(identity.id)
    if (seen !== undefined && seen.claims === claims && Date.now() - seen.at < UPSERT_TTL_MS) return
    await users.upsert(app.database.forUser(identity.id), identity.id, identity)
    if (upserted.size >= UPSERT_CACHE_MAX) upserted.clear()
    upserted.set(identity.id, { claims, at: Date.now() })
  }

  app.decorate('forgetUser', (userId: string) => { upserted.delete(userId) })
  app.decorateRequest('user', null as never)
  /** A 401 about to be answered: counted against the address, 429 once it is past its limit. */
  async function refuse (request: FastifyRequest, problem: ApiProblem): Promise<ApiProblem> {
    const wait = await request.server.countFailedAuthentication(request)
    if (wait === undefined) return problem
    return new ApiProblem('rate-limited', `Too many failed authentications from this address; retry in ${wait} s.`, { headers: { 'retry-after': String(wait) } })
  }

  app.addHook('onRequest', async (request) => {
    if (!isAuthenticatedRoute(request)) return
    const header = request.headers.authorization
    if (header === undefined || header === '') throw await refuse(request, unauthorized('A bearer token is required.', false))
    const match = BEARER.exec(header)
    if (match === null) throw await refuse(request, unauthorized('The Authorization header must be "Bearer <JWT>".', true))
    let identity: Identity
    try {
      identity = await verifyToken(match[1] as string)
    } catch (error) {
      if (error instanceof TokenRejected) {
        // Why, for operators (expired, unknown key, bad signature, wrong issuer…); never the token.
        request.log.info({ reason: error.message }, 'token rejected')
        throw await refuse(request, unauthorized(error.message, true))
      }
      if (error instanceof KeysUnavailable) {
        request.log.warn({ err: error.cause }, error.message)
        throw new ApiProblem('service-unavailable', 'Tokens cannot be verified right now; retry later.', { headers: { 'retry-after': '5' } })
      }
      throw error
    }
    await rememberUser(identity)
    request.user = { id: identity.id }
  })
}

export default fp(auth, { name: 'auth', dependencies: ['database'] })
