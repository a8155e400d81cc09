/**
 * Connections that have sent nothing for a second are closed when the service closes.
 * Closing, Node's server stops accepting and waits for every connection to end: it closes
 * those idle after a request itself, but a connection that has sent nothing yet counts as one
 * awaiting its first request, and once closing nothing times it out. A browser's preconnect,
 * or an HTTP client that opened a connection for a request it then cancelled (undici does, when
 * a stream it was reading ends and its retry is aborted), held a graceful shutdown open until
 * the client gave up or SHUTDOWN_GRACE_MS ended the process. At preClose, such a connection
 * silent for a second is closed; a younger one, or one made while closing, is closed once it
 * has been silent for a second. (A request already sent but not yet read by Node counts as
 * silent for a moment: the second lets it be read, and answered 503 as Fastify answers
 * requests that arrive while closing.) A connection that has sent anything is left alone.
 */
import type { Socket } from 'node:net'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/** How long a connection may stay silent once the service is closing. */
const SILENCE_MS = 1_000

const unusedConnections: FastifyPluginAsync = async (app) => {
  const openedAt = new Map<Socket, number>()
  let closing = false

  const closeWhenSilent = (socket: Socket): void => {
    if (socket.bytesRead > 0) return
    const silentFor = performance.now() - (openedAt.get(socket) ?? 0)
    if (silentFor >= SILENCE_MS) { socket.destroy(); return }
    setTimeout(() => { closeWhenSilent(socket) }, SILENCE_MS - silentFor).unref()
  }

  app.server.on('connection', (socket: Socket) => {
    openedAt.set(socket, performance.now())
    socket.once('close', () => { openedAt.delete(socket) })
    if (closing) closeWhenSilent(socket)
  })
  app.addHook('preClose', async () => {
    closing = true
    for (const socket of openedAt.keys()) closeWhenSilent(socket)
  })
}

export default fp(unusedConnections, { name: 'unused-connections' })
