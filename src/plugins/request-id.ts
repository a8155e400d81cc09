/**
 * Request ids. `genRequestId` is given to Fastify as `genReqId`: it keeps a client's
 * X-Request-Id when it is 1..200 visible ASCII characters (so ids can be followed across
 * services) and makes a UUID otherwise. The plugin adds an `onSend` hook that echoes the id
 * on every response, errors and 404s included.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

const ACCEPTABLE_ID = /^[\x21-\x7e]{1,200}$/

export function genRequestId (request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID()
}

const requestId: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
}

export default fp(requestId, { name: 'request-id' })
