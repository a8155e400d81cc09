/** getCurrentUser, updateCurrentUser. */
import { atomically } from '../database/transactions.js'
import { toUser } from '../domain/representations.js'
import { isTimeZone } from '../domain/time-zones.js'
import { ApiProblem } from '../errors.js'
import * as tasks from '../repositories/tasks.js'
import * as users from '../repositories/users.js'
import type { Handlers } from './types.js'

/** Tasks recomputed per statement after a zone change. */
const RECOMPUTE_BATCH = 500

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
    const userId = request.user.id
    // The all-day tasks that follow the zone move with it in the same transaction: visible in
    // listings once this answers (API.md), and never half done by a crash. In bounded batches,
    // so no statement grows with the account; the lock held meanwhile is this user's alone.
    const row = await atomically(request.db, async (trx) => {
      const changed = await users.updateSettings(trx, userId, request.body)
      if (changed !== undefined && zone !== undefined) {
        let after: string | undefined
        do after = await tasks.recomputeFollowingDue(trx, userId, RECOMPUTE_BATCH, after)
        while (after !== undefined)
      }
      return changed
    })
    if (row === undefined) throw gone()
    return toUser(row)
  }
}
