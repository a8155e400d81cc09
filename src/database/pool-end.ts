/**
 * Ending a pg Pool for real. pg's Pool.end() resolves as soon as it has asked each connection
 * to close, not once they have closed (brianc/node-postgres#2328, open): its end callback runs
 * right after Client.end() is called on the last client. A process that stops its database
 * right after its pools (server.ts stops the embedded PostgreSQL last) then has the server
 * end connections that were still saying goodbye, and each reports "terminating connection
 * due to administrator command" as a connection error. The pool emits 'remove' once a
 * client's socket has closed (Client.end's callback), so this waits for those.
 */
import type pg from 'pg'

/**
 * Call when the pool is made (it counts the connections it opens); the function it returns
 * ends the pool, or finishes an end already begun elsewhere (Kysely's destroy), and resolves
 * when every connection has closed, or after `boundMs` for a server that does not answer.
 */
export function poolEnder (pool: pg.Pool, boundMs = 5_000): () => Promise<void> {
  const open = new Set<pg.PoolClient>()
  pool.on('connect', (client) => { open.add(client) })
  pool.on('remove', (client) => { open.delete(client) })
  return async () => {
    if (!pool.ending) await pool.end()
    if (open.size === 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, boundMs)
      timer.unref()
      pool.on('remove', () => { if (open.size === 0) { clearTimeout(timer); resolve() } })
    })
  }
}
