/** Incremental sync (API.md part two, "Incremental sync"). */
import { toCategory } from '../domain/representations.js'
import { toTask } from '../domain/tasks.js'
import * as sync from '../repositories/sync.js'
import type { Handlers } from './types.js'

export const syncHandlers: Handlers<'syncChanges'> = {
  async syncChanges (request) {
    const userId = request.user.id
    const { since, limit } = request.query
    // An empty `since` counts as absent: a full sync.
    const after = since === undefined || since === '' ? undefined : await request.server.syncTokens.read(since, userId)
    const page = await sync.changes(request.db, userId, { after: after ?? '0', limit, deletions: after !== undefined })
    return {
      tasks: page.tasks.map(toTask),
      categories: page.categories.map(toCategory),
      deleted: {
        tasks: page.deletions.filter((d) => d.kind === 'task').map((d) => d.id),
        categories: page.deletions.filter((d) => d.kind === 'category').map((d) => d.id)
      },
      next_token: await request.server.syncTokens.issue(page.next, userId),
      has_more: page.hasMore
    }
  }
}
