/**
 * Per-user rate limiting of the authenticated operations with @fastify/rate-limit (RATE_LIMIT_PER_MINUTE a minute,
 * 0 = off). Its `onRequest` hook runs after the auth hook, so the key is the caller's user
 * id (the client address only for requests that reach it without a user). Over the limit:
 * 429 rate-limited with Retry-After and the RateLimit-* headers of the IETF draft.
 * The counters live in this process's memory, or with RATE_LIMIT_REDIS_URL in Redis, shared by
 * every process; an unreachable Redis lets requests through (skipOnError) rather than failing
 * the API with it. Decorates the instance with `forgetRateLimit(userId)`: a deleted account's
 * counter goes from Redis (counters in process memory lapse with their minute).
 * Failed authentications are limited too, per client address (RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE,
 * in the same store): the auth plugin calls `countFailedAuthentication(request)` for each 401
 * it is about to answer, and answers 429 instead once the address is past the limit. Only
 * failures count, so many users behind one address are not limited by each other's success.
 */
import rateLimit from '@fastify/rate-limit'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { isAuthenticatedRoute } from '../contract/route-contract.js'
import { ApiProblem } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Drops the user's counter from the shared store (Redis); resolves even when Redis is unreachable. */
    forgetRateLimit: (userId: string) => Promise<void>
    /** Counts a failed authentication of the request's address; the seconds to wait when it is past its limit. */
    countFailedAuthentication: (request: FastifyRequest) => Promise<number | undefined>
  }
}

/** @fastify/rate-limit's Redis keys: this namespace, then the key (the user id; routes share it). */
const REDIS_NAMESPACE = 'todo-contract:rate-limit:'

export interface RateLimitOptions {
  perMinute: number
  unauthenticatedPerMinute?: number
  redisUrl?: string | undefined
}

const rateLimiting: FastifyPluginAsync<RateLimitOptions> = async (app, { perMinute, unauthenticatedPerMinute = 0, redisUrl }) => {
  let store: Redis | undefined
  app.decorate('forgetRateLimit', async (userId: string) => {
    await store?.del(REDIS_NAMESPACE + userId).catch((error: unknown) => {
      app.log.warn({ err: error }, 'rate-limit counter not removed; it lapses with its window')
    })
  })
  let countFailure: ((request: FastifyRequest) => Promise<{ isExceeded: boolean, ttlInSeconds: number }>) | undefined
  app.decorate('countFailedAuthentication', async (request: FastifyRequest) => {
    if (countFailure === undefined) return undefined
    const counted = await countFailure(request)
    return counted.isExceeded ? counted.ttlInSeconds : undefined
  })
  if (perMinute === 0 && unauthenticatedPerMinute === 0) return
  let redis: Redis | undefined
  if (redisUrl !== undefined) {
    // No offline queue and one retry: a request never waits long on an unreachable Redis.
    redis = new Redis(redisUrl, { connectTimeout: 2_000, maxRetriesPerRequest: 1, enableOfflineQueue: false })
    redis.on('error', (error) => { app.log.warn({ err: error }, 'rate-limit store unavailable') })
    const client = redis
    store = client
    app.addHook('onClose', async () => { client.disconnect() })
    // Commands fail at once while the connection is not up (no offline queue), and the limiter
    // then lets requests through uncounted: so start serving only once Redis is ready, or after
    // two seconds without it (failing open, as with any later Redis outage).
    await once(client, 'ready', { signal: AbortSignal.timeout(2_000) }).catch((error: unknown) => {
      app.log.warn({ err: error }, 'rate-limit store not ready; limiting fails open until it is')
    })
  }
  await app.register(rateLimit, {
    ...(redis === undefined ? {} : { redis, nameSpace: REDIS_NAMESPACE, skipOnError: true }),
    global: perMinute > 0,
    max: perMinute,
    timeWindow: 60_000,
    enableDraftSpec: true,
    // A batch's first operation rides on the batch request's own count, its others count one
    // each (request.batchPart.counted): a batch counts as its number of operations.
    allowList: (request) => !isAuthenticatedRoute(request) || request.batchPart?.counted === false,
    keyGenerator: (request) => (request.user as { id: string } | null)?.id ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) => new ApiProblem('rate-limited', `Rate limit exceeded; retry in ${context.after}.`)
  })
  if (unauthenticatedPerMinute > 0) {
    countFailure = app.createRateLimit({
      max: unauthenticatedPerMinute,
      timeWindow: 60_000,
      // Beside the users' keys (their ids) in the same store: only a token the identity
      // provider issued for such a sub could share one.
      keyGenerator: (request) => `unauthenticated:ip:${request.ip}`,
      allowList: () => false
    }) as unknown as typeof countFailure
  }
}

export default fp(rateLimiting, { name: 'rate-limit', dependencies: ['auth', 'database'] })
