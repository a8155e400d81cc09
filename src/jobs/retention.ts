/**
 * Retention, by the service itself: tasks trashed more than TRASH_RETENTION_DAYS ago are
 * deleted for good, then events (the change record) older than SYNC_RETENTION_DAYS plus a day
 * go (a sync token stays valid SYNC_RETENTION_DAYS; the extra day covers a transaction that
 * began before the token was issued and committed after). Every process runs the timer (TRASH_PURGE_INTERVAL_MS, first run one
 * interval after start); the database function it calls lets one purge run at a time across
 * all of them and deletes in bounded batches, each its own short transaction, so no lock is
 * held for long and nothing waits on a purge. No job queue: a periodic, idempotent sweep
 * whose every run starts from the database's state needs nothing durable of its own.
 * Started when the app is ready, stopped (and awaited) when it closes.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
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
  }
}

const retention: FastifyPluginAsync<RetentionOptions> = async (app, { retentionDays, syncRetentionDays, intervalMs, batch = 500 }) => {
  let running: Promise<number> | undefined
  let stopped = false

  async function sweep (): Promise<number> {
    let total = 0
    for (;;) {
      // Closing: the batch in hand finishes, no new one starts.
      if (stopped) break
      const purged = await tasks.purgeExpired(app.database.db, retentionDays, batch)
      if (purged === 'busy') break
      total += purged
      if (purged < batch) break
    }
    if (total > 0) app.log.info({ purged: total }, 'trash purged')
    return total
  }

  app.decorate('purgeTrash', async () => {
    running ??= sweep().finally(() => { running = undefined })
    return await running
  })

  let expiring: Promise<number> | undefined
  async function expire (): Promise<number> {
    let total = 0
    for (;;) {
      if (stopped) break
      // Not one at a time like the trash: each batch deletes distinct old rows, and a
      // concurrent one only finds fewer.
      const deleted = await events.purgeExpired(app.database.db, syncRetentionDays + 1, batch)
      total += deleted
      if (deleted < batch) break
    }
    if (total > 0) app.log.info({ expired: total }, 'events expired')
    return total
  }
  app.decorate('expireEvents', async () => {
    expiring ??= expire().finally(() => { expiring = undefined })
    return await expiring
  })

  if (intervalMs === 0) return
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      app.purgeTrash().catch((error: unknown) => { app.log.warn({ err: error }, 'trash purge failed; retried at the next interval') })
        .then(async () => await app.expireEvents())
        .catch((error: unknown) => { app.log.warn({ err: error }, 'event expiry failed; retried at the next interval') })
    }, intervalMs)
    timer.unref()
  })
  app.addHook('onClose', async () => {
    stopped = true
    clearInterval(timer)
    await running?.catch(() => {})
    await expiring?.catch(() => {})
  })
}

export default fp(retention, { name: 'retention', dependencies: ['database'] })
