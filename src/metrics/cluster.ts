/**
 * Metrics with WEB_CONCURRENCY > 1 (node:cluster): each worker keeps its own registry (its
 * requests, its pool, its jobs), and the primary, which serves no requests, answers a scrape
 * with the workers' metrics added up (prom-client's AggregatorRegistry, over the cluster's
 * IPC channel): one endpoint per machine, whichever worker took each request. How each
 * metric adds up is its `aggregator` (src/metrics/catalogue.ts). A worker that is starting
 * (not answering yet) makes that scrape fail after 5 s; a worker that restarts starts its
 * counters from zero, which Prometheus reads as a counter reset of the sum.
 */
import { AggregatorRegistry, type PrometheusContentType, type Registry } from 'prom-client'
import type { Scrape } from './endpoint.js'

/** Making one is what starts listening for the primary's requests in a worker (prom-client lib/cluster.js). */
let listening: AggregatorRegistry<PrometheusContentType> | undefined

/** In a worker: the primary's requests for metrics are answered with this registry's. */
export function shareWithPrimary (registry: Registry): void {
  AggregatorRegistry.setRegistries([registry])
  listening ??= new AggregatorRegistry<PrometheusContentType>()
}

/** In the primary: renders every live worker's metrics, added up. */
export function workersMetrics (): () => Promise<Scrape> {
  const aggregator = new AggregatorRegistry<PrometheusContentType>()
  return async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() })
}
