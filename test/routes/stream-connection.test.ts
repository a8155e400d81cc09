/**
 * The event stream's body on its connection, read off a plain TCP socket: events written while
 * the client is not reading reach it when it reads again, once and in order; and a stream
 * requested behind another request on the same connection (HTTP/1.1 pipelining) is answered
 * after it and still gets its events. The stream writes its frames to the connection itself
 * (src/routes/events.ts), so these are the paths that changes.
 */
import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
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

  t.test('a stream asked for behind another request on its connection comes after that answer, and streams', async (t) => {
    const user = newUser()
    const stream = rawConnection(t, port)
    // Both requests in one write: the stream's answer waits for the first to be sent.
    stream.socket.write(request(port, user, '/api/me/tasks?limit=1') + request(port, user, '/api/me/events'))
    await stream.until((text) => text.includes('retry: '))
    const text = stream.text()
    t.match(text, /^HTTP\/1\.1 200 OK\r\n/, 'the first answer first')
    t.ok(text.indexOf('application/json') < text.indexOf('text/event-stream'), 'the list, then the stream')
    await streamsRegistered(sharedDb(t), user.id, 1)
    const task = await createTask(t, app, user, { title: 'Pipelined' })
    await stream.until((now) => now.includes(`"data":{"id":"${task.id as string}"`))
    t.match(stream.text(), /\nid: \d+\nevent: task\.created\ndata: /, 'the event, framed')
  })
})
