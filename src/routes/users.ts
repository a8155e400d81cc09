/** getCurrentUser. */
import { toUser } from '../domain/representations.js'
import { ApiProblem } from '../errors.js'
import * as users from '../repositories/users.js'
import type { Handlers } from './types.js'

export const userHandlers: Handlers<'getCurrentUser'> = {
  async getCurrentUser (request) {
    const userId = request.user.id
    const row = await request.server.asUser(userId, async (db) => await users.findById(db, userId))
    // The auth hook created the row; only a concurrent account deletion could remove it.
    if (row === undefined) throw new ApiProblem('not-found', 'No such user.')
    return toUser(row)
  }
}
