/**
 * Cross-origin access for browser apps, with @fastify/cors: pages from the origins of
 * CORS_ORIGINS may call the API (a web front end on its own origin, as the usual Next.js +
 * identity-provider setup has it); any other origin gets no CORS headers, so browsers keep
 * its pages from reading answers and refuse to send its preflighted requests.
 *
 * - Preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed
 *   origin are answered 204 in this plugin's `onRequest` hook, registered before the auth and
 *   rate-limit hooks: a browser sends no Authorization header on a preflight, and a preflight
 *   costs no request of the caller's budget. Any other `OPTIONS` goes on to the not-found
 *   handler (405 with `Allow`), as it does when CORS_ORIGINS is unset.
 * - Credentials are bearer tokens in `Authorization`, never cookies: no
 *   `Access-Control-Allow-Credentials`.
 * - helmet's `Cross-Origin-Resource-Policy: same-origin` is relaxed to `cross-origin` on
 *   answers to an allowed origin only.
 * Not registered at all when CORS_ORIGINS is unset.
 */
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export interface CorsPluginOptions {
  /** Exact origins (`https://app.example.com`), as config.server.corsOrigins holds them. */
  origins: readonly string[]
}

/** Every request header the contract reads, beyond the CORS-safelisted ones. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Idempotency-Key', 'Last-Event-ID', 'Confirm-Delete', 'X-Request-Id']

/** Every response header the contract declares that a script could not read otherwise. */
export const CORS_EXPOSED_HEADERS = ['ETag', 'Location', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed', 'Content-Disposition', 'WWW-Authenticate', 'Allow']

/** Chromium caps a preflight's cache at 2 hours, Firefox at 24: one preflight per path and method every 2 hours. */
const PREFLIGHT_MAX_AGE_S = 7200

function allowedOrigin (request: FastifyRequest, origins: ReadonlySet<string>): string | undefined {
  const origin = request.headers.origin
  return origin !== undefined && origins.has(origin) ? origin : undefined
}

const corsPlugin: FastifyPluginAsync<CorsPluginOptions> = async (app, { origins }) => {
  const allowed = new Set(origins)
  const allow: FastifyCorsOptions = {
    // true reflects the request's Origin: the one allowed origin asking, never the whole list.
    origin: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_S,
    credentials: false
  }
  const refuse: FastifyCorsOptions = { origin: false }

  await app.register(cors, {
    // Per request (the delegator sees the request; the origin option sees only the Origin):
    // an OPTIONS that is not a preflight is not answered as one, whatever its origin.
    delegator: (request, callback) => {
      const isPlainOptions = request.method === 'OPTIONS' && request.headers['access-control-request-method'] === undefined
      callback(null, allowedOrigin(request, allowed) !== undefined && !isPlainOptions ? allow : refuse)
    }
  })
  // After helmet's own onRequest hook (the security plugin is registered first), so this value wins.
  app.addHook('onRequest', async (request, reply) => {
    if (allowedOrigin(request, allowed) !== undefined) reply.header('cross-origin-resource-policy', 'cross-origin')
  })
}

export default fp(corsPlugin, { name: 'cors', dependencies: ['security'] })
