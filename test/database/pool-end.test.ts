/**
 * poolEnder: when it resolves, every connection of the pool has closed, so a database stopped
 * right after (the embedded PostgreSQL at shutdown) has nothing left to terminate. pg's own
 * Pool.end() resolves earlier; a proxy that is slow to pass on the server's goodbye makes that
 * window wide enough to see.
 */
import net from 'node:net'
import pg from 'pg'
import t, { type Test } from 'tap'
import { poolEnder } from '../../src/database/pool-end.js'
import { sharedUrl } from '../helpers/database.js'

/**
 * A TCP proxy to the suite's PostgreSQL that passes the server's end of a connection on 300 ms
 * late; `open()` counts the connections whose end it has not passed on yet.
 */
async function slowToCloseProxy (t: Test): Promise<{ url: string, open: () => number }> {
  const target = new URL(sharedUrl())
  /** Connections whose end has not been passed on yet. */
  const pending = new Set<net.Socket>()
  /** Both sides of every connection, destroyed at the end whatever their state. */
  const every = new Set<net.Socket>()
  // Half-open: the client's goodbye must not close the socket before the server's arrives.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    pending.add(client)
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    every.add(client).add(upstream)
    client.pipe(upstream)
    upstream.pipe(client, { end: false })
    upstream.once('end', () => { setTimeout(() => { pending.delete(client); client.end() }, 300) })
    // The client's side gone (its end passed on, or destroyed at teardown) takes the server's
    // with it: a destroyed socket does not end a pipe.
    client.once('close', () => { upstream.destroy() })
    upstream.on('error', () => { client.destroy() })
    client.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const socket of every) socket.destroy(); server.close() })
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String((server.address() as net.AddressInfo).port)
  return { url: url.toString(), open: () => pending.size }
}

/** A pool (with its ender) with `count` connections that have each run a statement, all checked out. */
async function busyPool (url: string, count: number): Promise<{ pool: pg.Pool, end: () => Promise<void>, held: pg.PoolClient[] }> {
  const pool = new pg.Pool({ connectionString: url, max: count })
  const end = poolEnder(pool)
  const held = await Promise.all(Array.from({ length: count }, async () => await pool.connect()))
  await Promise.all(held.map(async (client) => await client.query('SELECT 1')))
  return { pool, end, held }
}

t.test("pg's Pool.end() alone resolves with connections still open (why poolEnder exists)", async (t) => {
  const proxy = await slowToCloseProxy(t)
  const { pool, held } = await busyPool(proxy.url, 2)
  for (const client of held) client.release()
  await pool.end()
  t.equal(proxy.open(), 2, 'both still open')
})

t.test('resolves once every connection has closed, idle or released after the end began', async (t) => {
  const proxy = await slowToCloseProxy(t)
  const { end, held } = await busyPool(proxy.url, 4)
  held[0]?.release(); held[1]?.release()
  const ended = end()
  setTimeout(() => { held[2]?.release(); held[3]?.release() }, 50)
  await ended
  t.equal(proxy.open(), 0, 'none open')
})

t.test('finishes an end someone else began (as Kysely destroy does)', async (t) => {
  const proxy = await slowToCloseProxy(t)
  const { pool, end, held } = await busyPool(proxy.url, 3)
  for (const client of held) client.release()
  await pool.end()
  await end()
  t.equal(proxy.open(), 0, 'none open')
})

t.test('a pool that never connected ends at once', async (t) => {
  const pool = new pg.Pool({ connectionString: sharedUrl() })
  await poolEnder(pool)()
  t.ok(pool.ended, 'ended')
})
