/**
 * The metrics endpoint: a small node:http server of its own on METRICS_HOST:METRICS_PORT,
 * serving `GET /metrics` in Prometheus' text format. Never on the API's port: the API serves
 * the contract's routes and nothing else, and its answers go to the public.
 * With METRICS_TOKEN, every request must carry `Authorization: Bearer <token>`; any other
 * gets 401 and no metrics, whatever its path. The token is compared in constant time.
 * Started by server.ts: in the process that serves the API, or with WEB_CONCURRENCY > 1 in
 * the primary, over every worker's metrics (cluster.ts). The server never keeps the process
 * alive by itself (unref), so a process that is done exits with it open.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export const METRICS_PATH = '/metrics'

export interface Scrape {
  contentType: string
  body: string
}

export interface MetricsEndpointOptions {
  host: string
  port: number
  /** Unset: no token asked (config.ts allows that on a loopback host only). */
  token?: string | undefined
  /** What a scrape is answered with. */
  render: () => Promise<Scrape>
  /** A scrape that could not be answered (500). */
  onError: (error: unknown) => void
}

export interface MetricsEndpoint {
  /** http://host:port/metrics */
  url: string
  close: () => Promise<void>
}

/** A scrape of one registry (this process's metrics). */
export function registryMetrics (registry: Registry): () => Promise<Scrape> {
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() })
}

const BEARER = /^Bearer +(\S+)$/i
const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

function answer (response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers })
  response.end(body)
}

export async function serveMetrics ({ host, port, token, render, onError }: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  // Digests of equal length, so timingSafeEqual can compare a token of any length.
  const expected = token === undefined ? undefined : digest(token)
  const authorized = (request: IncomingMessage): boolean => {
    if (expected === undefined) return true
    const given = BEARER.exec(request.headers.authorization ?? '')?.[1]
    return given !== undefined && timingSafeEqual(digest(given), expected)
  }

  const server = createServer((request, response) => {
    if (!authorized(request)) {
      answer(response, 401, { 'www-authenticate': 'Bearer realm="metrics"' }, 'A bearer token is required.\n')
      return
    }
    if ((request.url ?? '').split('?')[0] !== METRICS_PATH) {
      answer(response, 404, {}, `Metrics are at ${METRICS_PATH}.\n`)
      return
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      answer(response, 405, { allow: 'GET, HEAD' }, 'Use GET.\n')
      return
    }
    render().then(({ contentType, body }) => {
      answer(response, 200, { 'content-type': contentType }, request.method === 'HEAD' ? '' : body)
    }, (error: unknown) => {
      onError(error)
      answer(response, 500, {}, 'The metrics could not be gathered.\n')
    })
  })
  // A scraper that stalls cannot hold a socket for long.
  server.headersTimeout = 5_000
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  server.unref()
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shown}:${address.port}${METRICS_PATH}`,
    close: async () => {
      await new Promise<void>((resolve) => { server.close(() => { resolve() }); server.closeAllConnections() })
    }
  }
}
