/**
 * The job queue: graphile-worker (schema `graphile_worker`, installed by the migrate step) run
 * inside every service process by default, so nothing else needs starting; at scale, run it
 * in processes of its own (README, "Background jobs"). Jobs are added in SQL, in the
 * transaction that makes them owed (db/migrations/202611281600_job_queue.ts), and woken by
 * LISTEN/NOTIFY: a job starts milliseconds after its commit. Each process's workers lock
 * what they run, so a job runs in one process at a time.
 *
 * Decorates `app.jobQueue` with `define(name, task)`: plugins register their tasks before the
 * app is ready (then the workers start, with `concurrency` jobs at once; 0: this process runs
 * none).
 *
 * Two things graphile-worker 0.17 leaves to its host, done here:
 * - A crashed process's jobs stay locked for four hours (fixed in the library's SQL). Every
 *   process writes its worker pool's id to job_queue_workers every quarter of `lapseMs`, and unlocks
 *   (graphile_worker.force_unlock_workers) the jobs of pools silent for `lapseMs`, or of pools
 *   it never heard of whose jobs have been locked that long. Every job of ours ends within
 *   seconds, so a job locked longer belongs to a dead process.
 * - Stopping: `stop()` resolves before the pool's last "job done" writes have run (they are
 *   not awaited), and a pool the library made itself is ended under them (measured: the job
 *   stays locked). So the queue gets a pg pool of ours, ended after `stop()`: pg's Pool.end()
 *   waits for the clients in use to be released (and pool-end.ts for their connections to close).
 */
import { EventEmitter } from 'node:events'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { type Runner, run, type Task, type TaskList, type WorkerEvents } from 'graphile-worker'
import pg from 'pg'
import { poolEnder } from '../database/pool-end.js'
import { jobEventsCreated } from '../metrics/signals.js'
import { queueLogger } from './queue-logger.js'

export interface JobQueueOptions {
  /**
   * The queue's database: a session of its own per connection (it LISTENs, and its
   * statements are prepared), so straight to PostgreSQL, never through a transaction-mode
   * pooler (DATABASE_DIRECT_URL).
   */
  url: string
  /** The role the queue's connections become (todo_jobs under row-level security); undefined: the login's. */
  role?: string | undefined
  /** Jobs at once in this process (0: none run here). */
  concurrency: number
  /** How often the queue is also polled (LISTEN/NOTIFY wakes it at once; this covers a lost connection). */
  pollIntervalMs?: number
  /** JOB_LAPSE_MS: a pool silent this long is dead; each says it is alive every quarter of it. */
  lapseMs?: number
}

export interface JobQueue {
  define: (name: string, task: Task) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    jobQueue: JobQueue
  }
}

const jobQueue: FastifyPluginAsync<JobQueueOptions> = async (app, { url, role, concurrency, pollIntervalMs = 2_000, lapseMs = 60_000 }) => {
  const heartbeatMs = lapseMs / 4
  const taskList: TaskList = {}
  app.decorate('jobQueue', {
    define: (name, task) => {
      if (taskList[name] !== undefined) throw new Error(`job task ${name} is defined twice`)
      taskList[name] = task
    }
  } satisfies JobQueue)
  if (concurrency === 0) return

  // The queue's own connections: one LISTEN, one per running job, and the heartbeat's. As
  // `role` (todo_jobs: the queue's schema and nothing else), set at connection start: `url`
  // goes straight to PostgreSQL, so startup parameters reach it.
  const pool = new pg.Pool({ connectionString: url, max: concurrency + 3, application_name: 'todo-contract jobs', ...(role === undefined ? {} : { options: `-c role=${role}` }) })
  const endPool = poolEnder(pool)
  // A connection lost while idle or in use is logged here; the library reconnects.
  pool.on('error', (error) => { app.log.warn({ err: error }, 'job queue connection failed') })
  pool.on('connect', (client) => { client.on('error', (error) => { app.log.warn({ err: error }, 'job queue connection failed') }) })
  const logger = queueLogger(app.log)
  /** The pools running here now (a pool that died stops being vouched for). */
  const poolIds = new Set<string>()
  /** Every pool this process ran, forgotten at a clean stop. */
  const registered = new Set<string>()
  let runner: Runner | undefined
  let heartbeat: NodeJS.Timeout | undefined
  let stopping = false
  /** The start in progress (or done): a close waits for it, or its runner would hold connections. */
  let starting: Promise<void> | undefined

  async function beat (): Promise<void> {
    await pool.query(`
      INSERT INTO job_queue_workers (pool_id) SELECT unnest($1::text[])
      ON CONFLICT (pool_id) DO UPDATE SET seen_at = now()
    `, [[...poolIds]])
    // Silent pools, and pools never heard of with jobs locked as long: unlocked, and forgotten.
    await pool.query(`
      WITH silent AS (
        DELETE FROM job_queue_workers WHERE seen_at < now() - $1 * interval '1 millisecond' RETURNING pool_id
      ), unknown AS (
        SELECT DISTINCT j.locked_by AS pool_id FROM graphile_worker.jobs j
        WHERE j.locked_at < now() - $1 * interval '1 millisecond'
          AND NOT EXISTS (SELECT FROM job_queue_workers w WHERE w.pool_id = j.locked_by)
      ), dead AS (SELECT pool_id FROM silent UNION SELECT pool_id FROM unknown)
      SELECT graphile_worker.force_unlock_workers(array_agg(pool_id)) FROM dead HAVING count(*) > 0
    `, [lapseMs])
  }

  async function start (): Promise<void> {
    const events: WorkerEvents = new EventEmitter()
    jobEventsCreated(app, events)
    events.on('pool:create', ({ workerPool }) => { poolIds.add(workerPool.id); registered.add(workerPool.id) })
    events.on('pool:release', ({ workerPool }) => { poolIds.delete(workerPool.id) })
    // graphile-worker reports a failed fetch of jobs only as an event (it retries at the next
    // poll): without this, a queue that cannot read its jobs (a missing grant) would be silent.
    events.on('worker:getJob:error', ({ error }) => { app.log.error({ err: error }, 'job queue cannot fetch jobs') })
    const started = await run({
      pgPool: pool,
      taskList,
      concurrency,
      pollInterval: pollIntervalMs,
      noHandleSignals: true,
      logger,
      events,
      // A job in flight when the service stops gets this long to finish before it is aborted
      // (a webhook attempt's timeout is 10 s).
      gracefulShutdownAbortTimeout: 12_000
    })
    runner = started
    await beat()
    // Since graphile-worker 0.17 the runner's promise resolves, rather than rejects, when its
    // pool dies of an error (graphile/worker#635): any end we did not ask for is a failure,
    // and the queue starts again.
    started.promise.then(() => 'ended', (error: unknown) => error).then((outcome) => {
      if (stopping) return
      app.log.error({ err: outcome === 'ended' ? undefined : outcome }, 'job queue stopped by itself; starting it again in 5 s')
      runner = undefined
      setTimeout(() => { if (!stopping) starting = start().catch(retry) }, 5_000).unref()
    }).catch(() => {})
  }
  const retry = (error: unknown): void => {
    app.log.error({ err: error }, 'job queue cannot start; trying again in 5 s')
    setTimeout(() => { if (!stopping) starting = start().catch(retry) }, 5_000).unref()
  }

  app.addHook('onReady', async () => {
    starting = start().catch(retry)
    heartbeat = setInterval(() => {
      beat().catch((error: unknown) => { app.log.warn({ err: error }, 'job queue heartbeat failed; retried at the next beat') })
    }, heartbeatMs)
    heartbeat.unref()
  })
  app.addHook('onClose', async () => {
    stopping = true
    clearInterval(heartbeat)
    // A close right after the start (a SIGTERM as the service comes up) finds run() still
    // connecting: its runner must be stopped too, or its LISTEN connection keeps the pool (and
    // the process) open. Bounded, for a database that does not answer.
    await Promise.race([starting, new Promise((resolve) => setTimeout(resolve, 5_000).unref())])
    await runner?.stop().catch((error: unknown) => { app.log.warn({ err: error }, 'job queue did not stop cleanly') })
    await pool.query('DELETE FROM job_queue_workers WHERE pool_id = ANY($1::text[])', [[...registered]]).catch(() => {})
    await endPool()
  })
}

export default fp(jobQueue, { name: 'job-queue', dependencies: ['database'] })
