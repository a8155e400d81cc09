/**
 * The event stream's body on its connection, read off a plain TCP socket: events written while
 * the client is not reading reach it when it reads again, once and in order; a stream
 * requested behind another request on the same connection (HTTP/1.1 pipelining), which has no
 * connection of its own until that answer is sent, is answered after it with what happened
 * meanwhile, and ends when the connection closes before that. The stream writes its frames to
 * the connection itself once it has one (src/routes/events.ts).
 */
import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedDb, sharedUrl } from '../helpers/database.js'
import { streamsRegistered } from '../helpers/event-stream.js'
import { createTask, newUser, type TestUser } from '../helpers/factories.js'

async function listening (t: Test): Promise<{ app: FastifyInstance, port: number }> {
  const app = await buildTestApp(t, { env: { DATABASE_URL: sharedUrl(), EVENTS_HEARTBEAT_MS: '15000' } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: Number(new URL(address).port) }
}

/** A TCP connection to the service, everything it receives kept as text. */
function rawConnection (t: Test, port: number): { socket: Socket, text: () => string, until: (check: (text: string) => boolean, ms?: number) => Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port })
  t.teardown(() => { socket.destroy() })
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => { text += chunk })
  socket.on('error', () => {})
  return {
    socket,
    text: () => text,
    until: async (check, ms = 10_000) => {
      const deadline = Date.now() + ms
      while (!check(text)) {
        if (Date.now() > deadline) throw new Error(`not received within ${ms} ms; received:\n${text.slice(0, 2_000)}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
}

const request = (port: number, user: TestUser, path: string): string =>
  `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: ${user.headers.authorization as string}\r\n\r\n`

/** The ids of the events in an SSE body, in the order received. */
const eventIds = (body: string): string[] => [...body.matchAll(/(?:^|\n)id: (\d+)\n/g)].map((match) => match[1] as string)

t.test('the event stream on its connection', async (t) => {
  const { app, port } = await listening(t)

  t.test('events written while the client is not reading reach it when it reads again, every one once and in order', async (t) => {
    const user = newUser()
    const stream = rawConnection(t, port)
    stream.socket.write(request(port, user, '/api/me/events'))
    await stream.until((text) => text.includes('\r\n\r\nretry: '))
    await streamsRegistered(sharedDb(t), user.id, 1)
    // Node stops reading the socket once its own buffer is full; the rest waits in the
    // kernel's buffers (over the loopback they take these 6 MiB whole, so the service's own
    // wait for a slow client is not reached here).
    stream.socket.pause()
    // 4,000 events of about 1.5 KiB, written at once: by another program, as the service's
    // own writes would be (every change writes its event; its notification wakes the stream).
    const count = 4_000
    await sharedDb(t).insertInto('tasks').values(Array.from({ length: count }, (_, i) => ({ user_id: user.id, title: `Unread ${i}`, description: 'x'.repeat(1_000) }))).execute()
    await new Promise((resolve) => setTimeout(resolve, 500))
    t.ok(eventIds(stream.text()).length < count, 'the client had not received them all before it read again')
    stream.socket.resume()
    await stream.until((text) => eventIds(text).length >= count, 30_000)
    const body = stream.text().slice(stream.text().indexOf('\r\n\r\n') + 4)
    const ids = eventIds(body)
    t.equal(ids.length, count, 'every event once')
    t.same(ids, [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)), 'in order')
    const titles = [...body.matchAll(/"title":"(Unread \d+)"/g)].map((match) => match[1])
    t.same(titles, Array.from({ length: count }, (_, i) => `Unread ${i}`), 'the tasks in the order they were written')
  })

  /**
   * Holds `user`'s change counter (every change of theirs takes its next number) until the
   * returned release is called: a write of theirs waits, and nothing of anyone else's does.
   */
  async function holdChanges (t: Test, user: TestUser): Promise<() => Promise<void>> {
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    let held: () => void = () => {}
    const holding = new Promise<void>((resolve) => { held = resolve })
    const transaction = sharedDb(t).transaction().execute(async (trx) => {
      await sql`SELECT seq FROM change_counters WHERE user_id = ${user.id} FOR UPDATE`.execute(trx)
      held()
      await released
    })
    await holding
    return async () => { release(); await transaction }
  }

  const createRequest = (port: number, user: TestUser, title: string): string => {
    const body = JSON.stringify({ title })
    return `POST /api/me/tasks HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: ${user.headers.authorization as string}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  }

  /**
   * A connection carrying a write ("Ahead", by another user) and, behind it, a stream: the
   * write waits on its user's change counter, so the stream's answer is queued behind it (no
   * connection of its own yet) until `release`. Resolves once the stream is registered.
   */
  async function queuedStream (t: Test): Promise<{ reader: TestUser, stream: ReturnType<typeof rawConnection>, release: () => Promise<void> }> {
    const writer = newUser()
    await createTask(t, app, writer)
    const reader = newUser()
    const release = await holdChanges(t, writer)
    const stream = rawConnection(t, port)
    stream.socket.write(createRequest(port, writer, 'Ahead') + request(port, reader, '/api/me/events'))
    await streamsRegistered(sharedDb(t), reader.id, 1)
    return { reader, stream, release }
  }

  t.test('a stream asked for behind another request on its connection is answered after it, with what happened meanwhile', async (t) => {
    const { reader, stream, release } = await queuedStream(t)
    const task = await createTask(t, app, reader, { title: 'Meanwhile' })
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.equal(stream.text(), '', 'nothing is sent while the first answer is not')
    await release()
    await stream.until((now) => now.includes(`"data":{"id":"${task.id as string}"`))
    const text = stream.text()
    t.match(text, /^HTTP\/1\.1 201 Created\r\n/, 'the first answer first')
    const [created, streamed] = [text.indexOf('"title":"Ahead"'), text.indexOf('text/event-stream')]
    t.ok(created >= 0 && streamed > created, 'the created task, then the stream')
    t.match(text.slice(streamed), /\r\n\r\nretry: \d+\n\n(: [^\n]*\n\n)*id: \d+\nevent: task\.created\ndata: /, 'the stream\'s retry:, then the event written while it was queued')
    // And it goes on streaming, now on the connection.
    const next = await createTask(t, app, reader, { title: 'After' })
    await stream.until((now) => now.includes(`"data":{"id":"${next.id as string}"`))
  })

  t.test('a stream queued behind another request ends when its connection closes', async (t) => {
    const { reader, stream, release } = await queuedStream(t)
    stream.socket.destroy()
    await release()
    await streamsRegistered(sharedDb(t), reader.id, 0)
    t.pass('its registration is gone: it no longer counts against the user\'s streams')
  })
})
