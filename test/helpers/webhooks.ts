/**
 * Webhook test tools: host name resolvers (a public address for names that must pass the
 * save check without DNS, 127.0.0.1 for local receivers) and a receiver, a node:http server
 * on 127.0.0.1 that records every request and answers as the test says.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import type { ResolveHost } from '../../src/jobs/webhook-targets.js'

/** A documentation-free public address (example.com's), which the tests never connect to. */
export const PUBLIC_ADDRESS = '93.184.215.14'

export const resolveTo = (address: string): ResolveHost => async () => [{ address, family: address.includes(':') ? 6 : 4 }]

export interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: string
  at: number
}

export type Answer = (request: Received, response: ServerResponse) => void

export interface Receiver {
  port: number
  /** http://hooks.test:<port><path>: a name, resolved by the test's resolver. */
  url: (path?: string) => string
  received: Received[]
  /** Resolves once `count` requests arrived; rejects after `timeoutMs`. */
  waitFor: (count: number, timeoutMs?: number) => Promise<Received[]>
  answer: Answer
}

export async function startReceiver (t: Test, answer: Answer = (_request, response) => { response.writeHead(204).end() }): Promise<Receiver> {
  const received: Received[] = []
  const waiters: Array<() => void> = []
  const receiver: Receiver = {
    port: 0,
    url: (path = '/hook') => `http://hooks.test:${receiver.port}${path}`,
    received,
    answer,
    waitFor: async (count, timeoutMs = 10_000) => await new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (received.length < count) return false
        clearTimeout(timer)
        resolve(received.slice())
        return true
      }
      const timer = setTimeout(() => { reject(new Error(`${received.length} of ${count} deliveries arrived within ${timeoutMs} ms`)) }, timeoutMs)
      const waiter = (): void => { if (!check()) waiters.push(waiter) }
      waiter()
    })
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const entry = { path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      received.push(entry)
      receiver.answer(entry, response)
      for (const waiter of waiters.splice(0)) waiter()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.port = (server.address() as AddressInfo).port
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return receiver
}
