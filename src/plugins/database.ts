/**
 * The database, and the one way handlers reach user data: `request.db`, a Kysely bound to
 * the authenticated caller (src/database/create.ts `forUser`): with row-level security on,
 * every statement it sends names `request.user.id` to the policies, whatever user id the
 * repository is handed. It is bound once per request, on first use; on a route without an
 * authenticated caller it throws. Also decorates the instance with `database` (the handle:
 * the unscoped Kysely for service data, `forUser` for plugins that act for a user before
 * the handler runs) and `checkDatabase()` for the readiness probe.
 * With row-level security on, the pool the app opens works as role todo_app. When the app
 * opened the pool it ends it on close; a handle passed in (tests) is the caller's to close.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type Kysely, sql } from 'kysely'
import { type DatabaseHandle, openDatabase } from '../database/create.js'
import { SERVICE_ROLE } from '../database/service-role.js'
import type { Database } from '../database/types.js'
import { ApiProblem } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle
    /** Resolves when the database answers; otherwise throws a 503 problem. */
    checkDatabase: () => Promise<void>
  }
  interface FastifyRequest {
    /** The database as the authenticated caller (row-level security names them in every statement). */
    readonly db: Kysely<Database>
  }
}

export interface DatabasePluginOptions {
  url: string
  poolMax: number
  statementTimeoutMs?: number
  rowLevelSecurity: boolean
  /** A database opened by the caller (tests); otherwise the plugin opens one from `url`. */
  database?: DatabaseHandle | undefined
}

const boundDb = Symbol('request.db')

const database: FastifyPluginAsync<DatabasePluginOptions> = async (app, options) => {
  let handle = options.database
  if (handle === undefined) {
    const opened = openDatabase({
      url: options.url,
      poolMax: options.poolMax,
      statementTimeoutMs: options.statementTimeoutMs,
      ...(options.rowLevelSecurity ? { role: SERVICE_ROLE } : {}),
      onPoolError: (error) => { app.log.warn({ err: error }, 'idle database connection failed') }
    })
    app.addHook('onClose', async () => { await opened.destroy() })
    handle = opened
  }
  const { forUser } = handle
  const root = handle.db
  app.decorate('database', handle)
  app.decorate('checkDatabase', async () => {
    try {
      await sql`SELECT 1`.execute(root)
    } catch (error) {
      app.log.warn({ err: error }, 'readiness check failed')
      throw new ApiProblem('service-unavailable', 'The database does not answer.', { headers: { 'retry-after': '5' } })
    }
  })
  app.decorateRequest(boundDb, null)
  app.decorateRequest('db', {
    getter (this: FastifyRequest) {
      const request = this as FastifyRequest & { [boundDb]: Kysely<Database> | null }
      // Fails closed: no caller, no user data (request.user is set by the auth plugin).
      const userId = (request.user as { id: string } | null)?.id
      if (userId === undefined) throw new Error('request.db used on a route without an authenticated caller')
      request[boundDb] ??= forUser(userId)
      return request[boundDb]
    }
  })
}

export default fp(database, { name: 'database' })
