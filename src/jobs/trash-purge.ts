/**
 * The trash purge: tasks trashed more than TRASH_RETENTION_DAYS ago are deleted for good, by
 * the service itself. Every process runs the timer (TRASH_PURGE_INTERVAL_MS, first run one
 * interval after start); the database function it calls lets one purge run at a time across
 * all of them and deletes in bounded batches, each its own short transaction, so no lock is
 * held for long and nothing waits on a purge. No job queue: a periodic, idempotent sweep
 * whose every run starts from the database's state needs nothing durable of its own.
 * Started when the app is ready, stopped (and awaited) when it closes.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import * as tasks from '../repositories/tasks.js'

export interface TrashPurgeOptions {
  retentionDays: number
  intervalMs: number
  /** Tasks a batch deletes at most. */
  batch?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs a purge now (what the timer runs); resolves to how many tasks it deleted. */
    purgeTrash: () => Promise<number>
  }
}

const trashPurge: FastifyPluginAsync<TrashPurgeOptions> = async (app, { retentionDays, intervalMs, batch = 500 }) => {
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

  if (intervalMs === 0) return
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      app.purgeTrash().catch((error: unknown) => { app.log.warn({ err: error }, 'trash purge failed; retried at the next interval') })
    }, intervalMs)
    timer.unref()
  })
  app.addHook('onClose', async () => {
    stopped = true
    clearInterval(timer)
    await running?.catch(() => {})
  })
}

export default fp(trashPurge, { name: 'trash-purge', dependencies: ['database'] })
