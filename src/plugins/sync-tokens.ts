/**
 * Sync tokens (API.md, "Incremental sync"): decorates the instance with
 * `syncTokens.issue(seq, userId)` and `syncTokens.read(token, userId)`. A token is a cursor
 * (plugins/cursors.ts: signed, bound to its user and to the sync listing) holding the change
 * number it continues after and when it was issued. A tampered one, another user's, or a list
 * cursor is 400 naming `since`; one issued longer than SYNC_RETENTION_DAYS ago is 410
 * sync-token-expired: the change record keeps deletions a day longer than that, so a token
 * still valid never needs one that is gone.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { ApiProblem } from '../errors.js'

export interface SyncTokens {
  issue: (seq: string, userId: string) => Promise<string>
  /** The change number the token continues after. */
  read: (token: string, userId: string) => Promise<string>
}

declare module 'fastify' {
  interface FastifyInstance {
    syncTokens: SyncTokens
  }
}

export interface SyncTokenOptions {
  retentionDays: number
  /** The clock (tests move it); default Date.now. */
  now?: () => number
}

/** What a sync token is bound to besides its user: no list cursor passes for one. */
const LISTING = { listing: 'sync' }
const DAY_MS = 86_400_000

const syncTokens: FastifyPluginAsync<SyncTokenOptions> = async (app, { retentionDays, now = Date.now }) => {
  app.decorate('syncTokens', {
    issue: async (seq, userId) => await app.cursors.encode({ key: seq, id: String(now()) }, userId, LISTING),
    read: async (token, userId) => {
      const { key, id } = await app.cursors.decode(token, userId, LISTING, 'since')
      const issuedAt = Number(id)
      if (!/^\d+$/.test(key) || !Number.isSafeInteger(issuedAt)) {
        throw new ApiProblem('invalid-cursor', 'The sync token is not one this service issued.', { errors: [{ parameter: 'since', detail: 'is not valid' }] })
      }
      if (now() - issuedAt > retentionDays * DAY_MS) {
        throw new ApiProblem('sync-token-expired', `The sync token is older than ${retentionDays} days; sync again without since.`, { errors: [{ parameter: 'since', detail: 'has expired' }] })
      }
      return key
    }
  } satisfies SyncTokens)
}

export default fp(syncTokens, { name: 'sync-tokens', dependencies: ['cursors'] })
