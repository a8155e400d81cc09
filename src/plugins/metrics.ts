/**
 * Metrics for Prometheus (registered only when METRICS_PORT is set): decorates the instance
 * with `metrics`, a prom-client registry of this app's metrics (src/metrics/catalogue.ts),
 * which server.ts serves on a port of its own (src/metrics/endpoint.ts), never on the API's.
 *
 * Adds one `onResponse` hook: each request's duration (Fastify's own clock, from arrival to
 * the end of the answer), labelled with the contract's operationId and the status code. Not
 * counted: a batch's operations (the batch request is), and an event stream's 200 (its
 * duration is the stream's life: todo_event_streams_open counts them instead).
 * Everything else is read when scraped or reported through src/metrics/signals.ts: the
 * service pool's counts and waits, statement errors, open streams, the queue's depth, job
 * failures and reminders' lateness. A reading whose source has not made itself known when
 * the app is ready (a pool not opened by src/database/create.ts, a hub that does not count its
 * streams) is left out rather than shown as zero.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Registry } from 'prom-client'
import { dereferencedContract, listOperations, operationIndex } from '../contract/index.js'
import { poolMetrics, queueMetrics, serviceMetrics, streamMetrics } from '../metrics/catalogue.js'
import { onApp, onPoolWait, onStatementFailed, openStreamsOf, poolOf } from '../metrics/signals.js'
import * as jobQueue from '../repositories/job-queue.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics, in Prometheus' text format through `metrics.metrics()`. */
    metrics: Registry
  }
}

/** The label of a request no operation serves: an unknown path, a 405, a CORS preflight. */
const NO_OPERATION = 'none'

/** Operations whose success is an event stream (text/event-stream): their 200 is not a request duration. */
function streamingOperations (): Set<string> {
  return new Set(listOperations(dereferencedContract()).filter(({ operation }) => Object.values(operation.responses).some((response) =>
    Object.keys((response as { content?: Record<string, unknown> }).content ?? {}).some((type) => type.startsWith('text/event-stream'))
  )).map((o) => o.operationId))
}

/**
 * The operationId of a route outside contract-routes: the contract's own documents
 * (`x-no-fastify-config`: /openapi.json, /openapi.yaml, and /docs with Swagger UI's assets below it).
 */
function documentOperations (): Array<{ path: string, operationId: string }> {
  return Object.entries(operationIndex).filter(([, entry]) => !entry.handled).map(([operationId, entry]) => ({ path: entry.path, operationId }))
}

/** SQLSTATE (five characters) or a network error's code (ECONNRESET); anything else is `other`, so the label stays a short list. */
function errorCode (error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^(?:[0-9A-Z]{5}|E[A-Z_]{2,30})$/.test(code) ? code : 'other'
}

const metrics: FastifyPluginAsync = async (app) => {
  const registry = new Registry()
  const { requestDuration, statementErrors, jobFailures, reminderLateness } = serviceMetrics(registry)
  app.decorate('metrics', registry)

  const streaming = streamingOperations()
  const documents = documentOperations()
  // Routes are few: each one's label is worked out once, on its first request.
  const labels = new WeakMap<object, string>()
  const operationOf = (request: FastifyRequest): string => {
    const { config, url } = request.routeOptions
    let label = labels.get(config)
    if (label === undefined) {
      label = config.contract?.operationId ??
        (url === undefined ? undefined : documents.find((d) => url === d.path || url.startsWith(d.path + '/'))?.operationId) ??
        NO_OPERATION
      labels.set(config, label)
    }
    return label
  }
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (request.batchPart === null) {
      const operation = operationOf(request)
      if (!(reply.statusCode === 200 && streaming.has(operation))) {
        requestDuration.observe({ operation, status_code: reply.statusCode }, reply.elapsedTime / 1000)
      }
    }
    done()
  })

  const unsubscribe = [
    onStatementFailed((error) => { statementErrors.inc({ code: errorCode(error) }) }),
    onApp(app, {
      jobEvents: (events) => {
        // Every failed attempt; `final` when it was the last the job had (graphile-worker then
        // also emits job:failed, not counted again).
        events.on('job:error', ({ job }) => { jobFailures.inc({ task: job.task_identifier, final: String(job.attempts >= job.max_attempts) }) })
      },
      reminderFired: (lateSeconds) => { reminderLateness.observe(Math.max(0, lateSeconds)) }
    })
  ]
  queueMetrics(registry, async () => await jobQueue.depth(app.database.db), (error) => {
    app.log.warn({ err: error }, 'metrics: the job queue\'s depth could not be read')
  })
  // Read once the app is ready: the database and the event hub register after this plugin.
  app.addHook('onReady', async () => {
    const pool = poolOf(app.database.db)
    if (pool !== undefined) {
      const waits = poolMetrics(registry, pool)
      unsubscribe.push(onPoolWait(pool, (seconds) => { waits.observe(seconds) }))
    }
    if (openStreamsOf(app) !== undefined) streamMetrics(registry, () => openStreamsOf(app) ?? 0)
  })
  app.addHook('onClose', async () => {
    for (const stop of unsubscribe) stop()
    registry.clear()
  })
}

export default fp(metrics, { name: 'metrics', dependencies: ['database'] })
