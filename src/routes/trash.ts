/** The trash (API.md part two, "Trash"): list it, restore from it, purge from it, fill it with the completed tasks. */
import { toTask } from '../domain/tasks.js'
import * as tasks from '../repositories/tasks.js'
import { notFound, sendTask } from './tasks.js'
import type { Handlers } from './types.js'

export const trashHandlers: Handlers<'listTrash' | 'restoreTask' | 'purgeTask' | 'clearCompletedTasks'> = {
  async listTrash (request) {
    const userId = request.user.id
    const { cursor, limit } = request.query
    // Bound to this listing: a listTasks cursor is refused here, and the reverse.
    const listing = { trash: true }
    const after = cursor === undefined ? undefined : await request.server.cursors.decode(cursor, userId, listing)
    const page = await tasks.listTrash(request.db, userId, { limit, after })
    return {
      items: page.rows.map(toTask),
      next_cursor: page.next === undefined ? null : await request.server.cursors.encode(page.next, userId, listing)
    }
  },

  async restoreTask (request, reply) {
    const row = await tasks.restore(request.db, request.user.id, request.params.task_id)
    if (row === undefined) throw notFound()
    return sendTask(reply, toTask(row))
  },

  async purgeTask (request, reply) {
    if (!await tasks.purge(request.db, request.user.id, request.params.task_id)) throw notFound()
    return await reply.code(204).send()
  },

  async clearCompletedTasks (request) {
    return { trashed: await tasks.trashCompleted(request.db, request.user.id, request.query.category_id) }
  }
}
