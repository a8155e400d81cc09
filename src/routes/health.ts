/** getHealth and getReadiness: no authentication, no contract data. */
import type { Handlers } from './types.js'

export const healthHandlers: Handlers<'getHealth' | 'getReadiness'> = {
  async getHealth () {
    return { status: 'ok' }
  },

  async getReadiness (request) {
    await request.server.checkDatabase()
    return { status: 'ready', checks: { database: 'up' } }
  }
}
