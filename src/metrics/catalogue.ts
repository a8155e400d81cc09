/**
 * Every metric the service exposes, defined in one place (README, "Metrics"): name, help,
 * labels, buckets, and how the primary adds up the workers' values when WEB_CONCURRENCY > 1
 * (prom-client's `aggregator`: counters, histograms and this process's gauges are summed; the
 * queue's depth, the same database-wide figure in every worker, takes the largest).
 * Gauges that describe a state are read when scraped (`collect`), never kept up to date.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type pg from 'pg'

/**
 * Request durations: most answers take a millisecond or two, and a slow one (an export, a
 * busy database) seconds; 10 s is the statement timeout's default.
 */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Waits for a pooled connection: none at all when one is idle; the pool gives up after 5 s. */
const WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
/** README "Reminders": one fires within 5 s of its time; one missed while no process ran fires at the next start, up to 24 h late. */
const LATENESS_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 21600, 86400]

export interface ServiceMetrics {
  /** operation: the contract's operationId (`none`: no operation serves the request); status_code: the answer's. */
  requestDuration: Histogram<'operation' | 'status_code'>
  /** code: the SQLSTATE, or the network error's code. */
  statementErrors: Counter<'code'>
  /** task: the job's task; final: `true` when the queue gives the job up (no attempt left). */
  jobFailures: Counter<'task' | 'final'>
  reminderLateness: Histogram
}

/** The metrics every process has, with prom-client's default process metrics (CPU, memory, event loop, GC). */
export function serviceMetrics (registry: Registry): ServiceMetrics {
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  return {
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from a request\'s arrival to the end of its answer, by contract operation and status code (event streams excluded: see todo_event_streams_open).',
      labelNames: ['operation', 'status_code'],
      buckets: REQUEST_BUCKETS,
      registers
    }),
    statementErrors: new Counter({
      name: 'todo_db_statement_errors_total',
      help: 'SQL statements of the service\'s connections that failed, by SQLSTATE (or network error code).',
      labelNames: ['code'],
      registers
    }),
    jobFailures: new Counter({
      name: 'todo_job_failures_total',
      help: 'Job attempts that failed in this process, by task; final="true": the queue gave the job up.',
      labelNames: ['task', 'final'],
      registers
    }),
    reminderLateness: new Histogram({
      name: 'todo_reminder_lateness_seconds',
      help: 'Seconds between a reminder\'s time and its firing, for the reminders this process fired.',
      buckets: LATENESS_BUCKETS,
      registers
    })
  }
}

/** The service pool's connections, read when scraped; returns the histogram of waits for one. */
export function poolMetrics (registry: Registry, pool: pg.Pool): Histogram {
  const gauge = (name: string, help: string, read: () => number): void => {
    registry.registerMetric(new Gauge({ name, help, registers: [], collect () { this.set(read()) } }))
  }
  gauge('todo_db_pool_connections', 'Connections the service pool holds open (in use or idle).', () => pool.totalCount)
  gauge('todo_db_pool_idle_connections', 'Open connections of the service pool that no one is using.', () => pool.idleCount)
  gauge('todo_db_pool_waiting_requests', 'Callers waiting for a connection of the service pool (all are in use).', () => pool.waitingCount)
  gauge('todo_db_pool_max_connections', 'Most connections the service pool may open (DATABASE_POOL_MAX).', () => pool.options.max)
  return new Histogram({
    name: 'todo_db_pool_wait_seconds',
    help: 'Time a statement or transaction waited for a connection of the service pool (a new connection\'s setup included).',
    buckets: WAIT_BUCKETS,
    registers: [registry]
  })
}

/** Open event streams of this process, read when scraped. */
export function streamMetrics (registry: Registry, read: () => number): void {
  registry.registerMetric(new Gauge({ name: 'todo_event_streams_open', help: 'Event streams (GET …/events) open on this process.', registers: [], collect () { this.set(read()) } }))
}

/**
 * The queue's depth across the database, read when scraped. A scrape during a database
 * outage shows no series (and the failure is reported to `onError`) rather than a stale figure.
 */
export function queueMetrics (registry: Registry, read: () => Promise<Array<{ task: string, jobs: number }>>, onError: (error: unknown) => void): void {
  registry.registerMetric(new Gauge({
    name: 'todo_job_queue_depth',
    help: 'Jobs due now and waiting for a worker (not running, attempts left), by task, across every process of the service.',
    labelNames: ['task'],
    aggregator: 'max',
    registers: [],
    async collect () {
      this.reset()
      try {
        for (const { task, jobs } of await read()) this.set({ task }, jobs)
      } catch (error) {
        onError(error)
      }
    }
  }))
}
