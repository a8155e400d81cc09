/**
 * Events across processes (API.md part two, "Events"): with WEB_CONCURRENCY=3, an event
 * written through any worker reaches every open stream of its user, on every worker, within a
 * second; SIGTERM ends the streams cleanly and the service exits 0.
 */
import t from 'tap'
import { sharedUrl } from '../helpers/database.js'
import { openStream } from '../helpers/event-stream.js'
import { startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

t.test('WEB_CONCURRENCY=3: every stream of the user, on every worker, within a second', async (t) => {
  const server = await startServer(t, { DATABASE_URL: sharedUrl(), JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test', WEB_CONCURRENCY: '3', EVENTS_MAX_STREAMS_PER_USER: '20' })
  const deadline = Date.now() + 30_000
  while ((server.output().match(/Server listening/g) ?? []).length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal((server.output().match(/Server listening/g) ?? []).length, 3, 'three workers listening')

  const headers = bearer(tokenFor(newUserId('cluster-events')))
  // Nine connections, handed out round-robin by the primary: three on each worker.
  const streams = await Promise.all(Array.from({ length: 9 }, async () => await openStream(server.baseUrl, headers)))
  t.same(streams.map((stream) => stream.status), Array(9).fill(200))
  await Promise.all(streams.map(async (stream) => { await stream.until((_events, text) => text.startsWith('retry:')) }))

  const delays: number[] = []
  for (let i = 0; i < 6; i++) {
    const response = await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ title: `from any worker ${i}` }) })
    t.equal(response.status, 201)
    const written = Date.now()
    await Promise.all(streams.map(async (stream) => { await stream.until((events) => events.length === i + 1, 3_000) }))
    delays.push(Date.now() - written)
  }
  t.ok(delays.every((ms) => ms < 1_000), `every stream had each event within a second (slowest ${Math.max(...delays)} ms)`)
  const ids = streams.map((stream) => stream.events().map((event) => event.id).join(','))
  t.equal(new Set(ids).size, 1, 'every stream saw the same events in the same order')

  t.equal(await server.stop('SIGTERM'), 0, 'SIGTERM: the service exits 0')
  await Promise.all(streams.map(async (stream) => { await stream.ended }))
  t.pass('and every stream ended')
})
