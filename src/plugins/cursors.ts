/**
 * List cursors (domain/cursor.ts) with the service's signing key: decorates the instance with
 * `cursors.encode(position, userId, query)` and `cursors.decode(cursor, userId, query)`.
 * A cursor is bound to its user and to every query member it is given (filters, sort,
 * order: never the page size); decode throws the contract's 400 invalid-cursor problem.
 * The key lives in the database (service_keys, made by a migration), so every process signs
 * and checks with the same key without configuration; it is read once, and a failed read is
 * retried on the next request.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { type CursorPosition, decodeCursor, encodeCursor, queryFingerprint } from '../domain/cursor.js'
import { ApiProblem } from '../errors.js'
import * as serviceKeys from '../repositories/service-keys.js'

export interface Cursors {
  encode: (position: CursorPosition, userId: string, query: Record<string, unknown>) => Promise<string>
  /** `parameter`: the query parameter that carried it, named in the 400 (default `cursor`). */
  decode: (cursor: string, userId: string, query: Record<string, unknown>, parameter?: string) => Promise<CursorPosition>
}

declare module 'fastify' {
  interface FastifyInstance {
    cursors: Cursors
  }
}

const cursors: FastifyPluginAsync = async (app) => {
  let secret: Promise<string> | undefined
  const signingKey = async (): Promise<string> => {
    secret ??= serviceKeys.findSecret(app.database.db, 'cursor').then((value) => {
      if (value === undefined) throw new Error('service key "cursor" is missing: run the migrations')
      return value
    })
    secret.catch(() => { secret = undefined })
    return await secret
  }

  app.decorate('cursors', {
    encode: async (position, userId, query) => encodeCursor(position, queryFingerprint(userId, query), await signingKey()),
    decode: async (cursor, userId, query, parameter = 'cursor') => {
      const decoded = decodeCursor(cursor, queryFingerprint(userId, query), await signingKey())
      if (decoded === 'tampered') {
        throw new ApiProblem('invalid-cursor', 'The cursor is not one this service issued.', { errors: [{ parameter, detail: 'is not valid' }] })
      }
      if (decoded === 'mismatch') {
        throw new ApiProblem('invalid-cursor', 'The cursor was issued for another user, or other filters, sort or order.', { errors: [{ parameter, detail: 'does not match this query' }] })
      }
      return decoded
    }
  } satisfies Cursors)
}

export default fp(cursors, { name: 'cursors', dependencies: ['database'] })
