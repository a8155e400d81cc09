/** getHealth and getReadiness: no authentication, no contract data. */
import { sql } from 'kysely'
import { ApiProblem } from '../errors.js'
import type { Handlers } from './types.js'

export const healthHandlers: Handlers<'getHealth' | 'getReadiness'> = {
  async getHealth () {
    return { status: 'ok' }
  },

  async getReadiness (request) {
    try {
      await sql`SELECT 1`.execute(request.server.db)
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed')
      throw new ApiProblem('service-unavailable', 'The database does not answer.', { headers: { 'retry-after': '5' } })
    }
    return { status: 'ready', checks: { database: 'up' } }
  }
}
