/**
 * Sync (API.md, "Incremental sync"): what changed for a user after a change number, read in one
 * REPEATABLE READ snapshot so that tasks, categories and deletions agree with each other (the
 * change record numbers a user's changes in commit order, and a snapshot sees a prefix of them).
 */
import type { Kysely } from 'kysely'
import type { CategoryRow, Database } from '../database/types.js'
import { assemblePage, type Page } from '../domain/sync.js'
import * as categories from './categories.js'
import * as events from './events.js'
import * as tasks from './tasks.js'

/** At most this many deleted ids a page (they do not count against `limit`). */
export const DELETED_PER_PAGE = 1000

export type SyncPageRows = Page<tasks.ChangedTaskRow, CategoryRow, events.Deletion>

/**
 * One page after change number `after` ('0': from the start). `deletions: false` leaves
 * deletions out (a full sync's first page has none to report).
 */
export async function changes (db: Kysely<Database>, userId: string, query: { after: string, limit: number, deletions: boolean }): Promise<SyncPageRows> {
  const { after, limit } = query
  return await db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
    const taskRows = await tasks.changedSince(trx, userId, after, limit + 1)
    const categoryRows = await categories.changedSince(trx, userId, after, limit + 1)
    const deletions = query.deletions ? await events.deletionsSince(trx, userId, after, DELETED_PER_PAGE + 1) : []
    const page = assemblePage({ after, tasks: taskRows, categories: categoryRows, deletions, limit, deletedLimit: DELETED_PER_PAGE })
    // A last page continues from the latest change this snapshot holds: past every change it
    // left out as superseded, and past deletions a full sync does not report.
    if (!page.hasMore) {
      const latest = await events.latestSeq(trx, userId)
      if (BigInt(latest) > BigInt(page.next)) page.next = latest
    }
    return page
  })
}
