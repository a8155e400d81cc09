/**
 * Connections that never sent anything are closed when the service closes. Closing, Node's
 * server waits for every connection to end; Fastify closes those idle after a request
 * (forceCloseConnections: 'idle'), but Node counts a connection that has sent nothing yet as
 * one awaiting its first request's headers, ended only by headersTimeout (60 s). A browser's
 * preconnect, or an HTTP client that opened a connection for a request it then cancelled (as
 * undici does when a stream it was reading is ended and its retry aborted), held a graceful
 * shutdown open for a minute. Such connections are closed at preClose; one made while closing
 * that sends nothing within a second is closed then. A connection that has sent part of a
 * request is left to finish it.
 */
import type { Socket } from 'node:net'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/** How long a connection made while closing may stay silent. */
const SILENT_WHILE_CLOSING_MS = 1_000

const unusedConnections: FastifyPluginAsync = async (app) => {
  const open = new Set<Socket>()
  let closing = false
  const closeIfSilent = (socket: Socket): void => { if (socket.bytesRead === 0) socket.destroy() }
  app.server.on('connection', (socket: Socket) => {
    open.add(socket)
    socket.once('close', () => { open.delete(socket) })
    if (closing) setTimeout(() => { closeIfSilent(socket) }, SILENT_WHILE_CLOSING_MS).unref()
  })
  app.addHook('preClose', async () => {
    closing = true
    for (const socket of open) closeIfSilent(socket)
  })
}

export default fp(unusedConnections, { name: 'unused-connections' })
