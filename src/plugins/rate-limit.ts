/**
 * Per-user rate limiting of /api with @fastify/rate-limit (RATE_LIMIT_PER_MINUTE a minute,
 * 0 = off). Its `onRequest` hook runs after the auth hook, so the key is the caller's user
 * id (the client address only for requests that reach it without a user). Over the limit:
 * 429 rate-limited with Retry-After and the RateLimit-* headers of the IETF draft.
 * The counters live in this process's memory.
 */
import rateLimit from '@fastify/rate-limit'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { ApiProblem } from '../errors.js'

export interface RateLimitOptions {
  perMinute: number
}

const rateLimiting: FastifyPluginAsync<RateLimitOptions> = async (app, { perMinute }) => {
  if (perMinute === 0) return
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    enableDraftSpec: true,
    allowList: (request) => !request.url.startsWith('/api/'),
    keyGenerator: (request) => (request.user as { id: string } | null)?.id ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) => new ApiProblem('rate-limited', `Rate limit exceeded; retry in ${context.after}.`)
  })
}

export default fp(rateLimiting, { name: 'rate-limit', dependencies: ['auth'] })
