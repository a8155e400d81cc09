/**
 * Security headers on every response: helmet's, in its default configuration, whose
 * Content-Security-Policy (scripts and styles from this origin, inline styles, data: images)
 * is the one Swagger UI at /docs needs, so it applies everywhere; JSON responses are never
 * rendered as HTML anyway.
 *
 * The headers are the same for every response, so helmet runs once, at start, against a
 * recording response, and each request gets the recorded headers. @fastify/helmet 13 builds a
 * new helmet middleware for every request instead (its buildHelmetOnRoutes calls
 * `helmet(configuration)` each time, which normalises the CSP directives again) and adds two
 * async hooks: measured at about 3% of the service's CPU on a single-task read.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The headers helmet's default configuration sets, as [name, value] pairs, in its order. */
export function helmetHeaders (): Array<[string, string]> {
  const recorded = new Map<string, string>()
  const response = {
    setHeader: (name: string, value: unknown) => { recorded.set(name.toLowerCase(), String(value)) },
    removeHeader: (name: string) => { recorded.delete(name.toLowerCase()) },
    getHeader: (name: string) => recorded.get(name.toLowerCase())
  }
  let failure: unknown
  helmet()({ headers: {} } as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => { failure = error })
  if (failure !== undefined) throw failure
  return [...recorded]
}

const security: FastifyPluginAsync = async (app) => {
  const headers = helmetHeaders()
  app.addHook('onRequest', (_request, reply, done) => {
    // On the raw response, as helmet itself would: a later reply.header() (CORS relaxing
    // Cross-Origin-Resource-Policy) still wins when the head is written.
    for (const [name, value] of headers) reply.raw.setHeader(name, value)
    done()
  })
}

export default fp(security, { name: 'security' })
