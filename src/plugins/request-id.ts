/**
 * Request ids. `genRequestId` is given to Fastify as `genReqId`: it keeps a client's
 * X-Request-Id when it is 1..200 visible ASCII characters (so ids can be followed across
 * services) and makes a UUID otherwise. The plugin adds an `onSend` hook that echoes the id
 * on every response, errors and 404s included (and, while closing, `Connection: close`).
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
  // Once the server is closing, responses ask the client to close its connection too: a
  // keep-alive connection that an in-flight request leaves idle would otherwise hold the
  // graceful shutdown open until its keep-alive timeout.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    if (closing) reply.header('connection', 'close')
  })
}

export default fp(requestId, { name: 'request-id' })
