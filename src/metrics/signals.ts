/**
 * What the layers below the plugins report to the metrics (src/plugins/metrics.ts) without
 * depending on them. The database layer, the event hub and the job queue call these, one call
 * each where the thing happens; the metrics plugin of an app, when there is one, listens.
 * Imports nothing from src/, so any layer may call it; with metrics off (METRICS_PORT unset)
 * a call finds no listener and returns.
 *
 * - `poolOpened(db, pool)`: src/database/create.ts, once a pool and its unscoped Kysely are
 *   made; the plugin reads the counts of the pool under `app.database.db`.
 * - `connectTimed(pool)`: src/database/create.ts, in place of `pool.connect()`: the wait for
 *   a connection.
 * - `statementFailed(error)`: src/database/dialect.ts, for every statement that fails.
 * - `countOpenStreams(app, count)`: src/events/hub.ts, how many event streams are open here.
 * - `jobEventsCreated(app, events)`: src/jobs/queue.ts, each graphile-worker events emitter.
 * - `reminderFired(app, lateSeconds)`: src/jobs/reminders.ts, a reminder fired that late.
 * Keys are the objects a layer already holds (the app instance, the pool), so two apps in
 * one process (tests) do not count each other's streams, jobs or waits.
 */
import type { WorkerEvents } from 'graphile-worker'
import type pg from 'pg'

/** What an app's metrics plugin listens to; each listener optional. */
export interface AppListener {
  jobEvents?: (events: WorkerEvents) => void
  reminderFired?: (lateSeconds: number) => void
}

const pools = new WeakMap<object, pg.Pool>()
const waitListeners = new WeakMap<pg.Pool, Set<(seconds: number) => void>>()
const statementListeners = new Set<(error: unknown) => void>()
const streamCounters = new WeakMap<object, () => number>()
const appListeners = new WeakMap<object, AppListener>()

/** The pool under a Kysely made by src/database/create.ts (its unscoped `db`). */
export function poolOpened (db: object, pool: pg.Pool): void {
  pools.set(db, pool)
}

export function poolOf (db: object): pg.Pool | undefined {
  return pools.get(db)
}

/** `pool.connect()`, telling the pool's listener how long it waited (failed waits too: a timeout is a wait). */
export async function connectTimed (pool: pg.Pool): Promise<pg.PoolClient> {
  const listeners = waitListeners.get(pool)
  if (listeners === undefined) return await pool.connect()
  const started = performance.now()
  try {
    return await pool.connect()
  } finally {
    const seconds = (performance.now() - started) / 1000
    for (const listener of listeners) listener(seconds)
  }
}

export function onPoolWait (pool: pg.Pool, listener: (seconds: number) => void): () => void {
  let listeners = waitListeners.get(pool)
  if (listeners === undefined) waitListeners.set(pool, listeners = new Set())
  listeners.add(listener)
  const mine = listeners
  return () => {
    mine.delete(listener)
    if (mine.size === 0 && waitListeners.get(pool) === mine) waitListeners.delete(pool)
  }
}

/** A statement failed (any pool of this process: a running service has one). */
export function statementFailed (error: unknown): void {
  for (const listener of statementListeners) listener(error)
}

export function onStatementFailed (listener: (error: unknown) => void): () => void {
  statementListeners.add(listener)
  return () => { statementListeners.delete(listener) }
}

/** The event hub of `app` says how to count its open streams (read at each scrape). */
export function countOpenStreams (app: object, count: () => number): void {
  streamCounters.set(app, count)
}

export function openStreamsOf (app: object): number | undefined {
  return streamCounters.get(app)?.()
}

/** The job queue of `app` made an events emitter (one per start of its runner). */
export function jobEventsCreated (app: object, events: WorkerEvents): void {
  appListeners.get(app)?.jobEvents?.(events)
}

/** A reminder of `app`'s queue fired, `lateSeconds` after its time. */
export function reminderFired (app: object, lateSeconds: number): void {
  appListeners.get(app)?.reminderFired?.(lateSeconds)
}

export function onApp (app: object, listener: AppListener): () => void {
  appListeners.set(app, listener)
  return () => { if (appListeners.get(app) === listener) appListeners.delete(app) }
}
