/** getCurrentUser, updateCurrentUser. */
import { toUser } from '../domain/representations.js'
import { isTimeZone } from '../domain/time-zones.js'
import { ApiProblem } from '../errors.js'
import * as users from '../repositories/users.js'
import type { Handlers } from './types.js'

// The auth hook created the row; only a concurrent account deletion could remove it.
const gone = (): ApiProblem => new ApiProblem('not-found', 'No such user.')

export const userHandlers: Handlers<'getCurrentUser' | 'updateCurrentUser'> = {
  async getCurrentUser (request) {
    const row = await users.findById(request.db, request.user.id)
    if (row === undefined) throw gone()
    return toUser(row)
  },

  async updateCurrentUser (request) {
    const zone = request.body.time_zone
    if (typeof zone === 'string' && !isTimeZone(zone)) {
      throw new ApiProblem('validation-failed', 'Unknown time zone.', {
        errors: [{ pointer: '/time_zone', detail: 'is not an IANA time zone name this service knows (e.g. Europe/Berlin)' }]
      })
    }
    const row = await users.updateSettings(request.db, request.user.id, request.body)
    if (row === undefined) throw gone()
    return toUser(row)
  }
}
