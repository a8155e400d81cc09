/**
 * Overload protection with @fastify/under-pressure: when the event loop lags more than
 * EVENT_LOOP_DELAY_LIMIT_MS, requests to authenticated operations are answered at once with 503
 * service-unavailable and Retry-After, instead of queueing and slowing every request down.
 * /health and /ready are never refused here (a probe must not fail merely because of load).
 */
import underPressure from '@fastify/under-pressure'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { isAuthenticatedRoute } from '../contract/route-contract.js'
import { ApiProblem } from '../errors.js'

export interface OverloadOptions {
  maxEventLoopDelayMs: number
  /** How often the event loop is sampled (default 500 ms). */
  sampleIntervalMs?: number
}

const overload: FastifyPluginAsync<OverloadOptions> = async (app, { maxEventLoopDelayMs, sampleIntervalMs = 500 }) => {
  if (maxEventLoopDelayMs === 0) return
  // Start-up (compiling the contract's schemas) blocks the event loop, and under-pressure's
  // first samples would report that as load: pressure counts only from two samples after ready.
  let armedAt = Number.POSITIVE_INFINITY
  app.addHook('onReady', async () => { armedAt = Date.now() + 2 * sampleIntervalMs })
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    sampleInterval: sampleIntervalMs,
    pressureHandler: async (request) => {
      if (!isAuthenticatedRoute(request) || Date.now() < armedAt) return
      throw new ApiProblem('service-unavailable', 'The service is overloaded; retry later.', { headers: { 'retry-after': '2' } })
    }
  })
}

export default fp(overload, { name: 'overload' })
