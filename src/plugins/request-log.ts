/**
 * How a request appears in the logs: method, path and client, never the Authorization header
 * (also redacted by pino's `redact`), and query values that look like credentials blanked,
 * since a client that sends its token in the URL (refused with 401) must not leak it to logs.
 */
import type { FastifyRequest } from 'fastify'

const SECRET_PARAMS = /([?&](?:access_token|token|id_token|jwt|api_key|key|password|secret)=)[^&]*/gi

export function redactUrl (url: string): string {
  return url.replace(SECRET_PARAMS, '$1[REDACTED]')
}

export function serializeRequest (request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}
