/**
 * Retention, by the service itself: tasks trashed more than TRASH_RETENTION_DAYS ago are
 * deleted for good, then events (the change record) older than SYNC_RETENTION_DAYS plus a day
 * go (a sync token stays valid SYNC_RETENTION_DAYS; the extra day covers a transaction that
 * began before the token was issued and committed after), and the registrations of event
 * streams whose process stopped renewing them. Every process runs the timer (TRASH_PURGE_INTERVAL_MS, first run one
 * interval after start); the database function it calls lets one purge run at a time across
 * all of them and deletes in bounded batches, each its own short transaction, so no lock is
 * held for long and nothing waits on a purge. No job queue: a periodic, idempotent sweep
 * whose every run starts from the database's state needs nothing durable of its own.
 * Started when the app is ready, stopped (and awaited) when it closes.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import * as eventStreams from '../repositories/event-streams.js'
import * as events from '../repositories/events.js'
import * as tasks from '../repositories/tasks.js'

export interface RetentionOptions {
  /** TRASH_RETENTION_DAYS. */
  retentionDays: number
  /** SYNC_RETENTION_DAYS. */
  syncRetentionDays: number
  intervalMs: number
  /** Rows a batch deletes at most. */
  batch?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs a purge now (what the timer runs, with expireEvents); resolves to how many tasks it deleted. */
    purgeTrash: () => Promise<number>
    /** Deletes expired events now; resolves to how many. */
    expireEvents: () => Promise<number>
    /** Deletes lapsed event stream registrations now; resolves to how many. */
    purgeLapsedStreams: () => Promise<number>
  }
}

const retention: FastifyPluginAsync<RetentionOptions> = async (app, { retentionDays, syncRetentionDays, intervalMs, batch = 500 }) => {
  const lifecycle = { stopped: false }

  /**
   * Runs `deleteBatch` until a batch deletes fewer than `batch` rows (or is 'busy'), or the
   * app closes (the batch in hand finishes, no new one starts); one sweep of a kind at a time
   * in this process. Resolves to how many rows went.
   */
  function sweeper (deleteBatch: () => Promise<number | 'busy'>, logged: string): () => Promise<number> {
    let running: Promise<number> | undefined
    async function sweep (): Promise<number> {
      let total = 0
      while (!lifecycle.stopped) {
        const deleted = await deleteBatch()
        if (deleted === 'busy') break
        total += deleted
        if (deleted < batch) break
      }
      if (total > 0) app.log.info({ deleted: total }, logged)
      return total
    }
    return async () => {
      running ??= sweep().finally(() => { running = undefined })
      return await running
    }
  }

  const purgeTrash = sweeper(async () => await tasks.purgeExpired(app.database.db, retentionDays, batch), 'trash purged')
  // Not one at a time across processes like the trash: each batch deletes distinct old rows,
  // and a concurrent one only finds fewer.
  const expireEvents = sweeper(async () => await events.purgeExpired(app.database.db, syncRetentionDays + 1, batch), 'events expired')
  const purgeLapsedStreams = sweeper(async () => await eventStreams.purgeLapsed(app.database.db, batch), 'lapsed event streams removed')
  app.decorate('purgeTrash', purgeTrash)
  app.decorate('expireEvents', expireEvents)
  app.decorate('purgeLapsedStreams', purgeLapsedStreams)

  if (intervalMs === 0) return
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      app.purgeTrash().catch((error: unknown) => { app.log.warn({ err: error }, 'trash purge failed; retried at the next interval') })
        .then(async () => await app.expireEvents())
        .catch((error: unknown) => { app.log.warn({ err: error }, 'event expiry failed; retried at the next interval') })
        .then(async () => await app.purgeLapsedStreams())
        .catch((error: unknown) => { app.log.warn({ err: error }, 'lapsed event stream removal failed; retried at the next interval') })
    }, intervalMs)
    timer.unref()
  })
  app.addHook('onClose', async () => {
    lifecycle.stopped = true
    clearInterval(timer)
    // A sweep in progress is joined (and its batch in hand finishes), none is started.
    await purgeTrash().catch(() => {})
    await expireEvents().catch(() => {})
    await purgeLapsedStreams().catch(() => {})
  })
}

export default fp(retention, { name: 'retention', dependencies: ['database'] })
