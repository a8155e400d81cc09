/** getCurrentUser. */
import { toUser } from '../domain/representations.js'
import { ApiProblem } from '../errors.js'
import * as users from '../repositories/users.js'
import type { Handlers } from './types.js'

export const userHandlers: Handlers<'getCurrentUser'> = {
  async getCurrentUser (request) {
    const row = await users.findById(request.db, request.user.id)
    // The auth hook created the row; only a concurrent account deletion could remove it.
    if (row === undefined) throw new ApiProblem('not-found', 'No such user.')
    return toUser(row)
  }
}
