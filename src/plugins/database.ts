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
 *
 * A request can run other requests as parts of itself (a batch's operations):
 * `request.injectPart(db, options)` is `app.inject` whose request carries a ticket on its raw
 * request object (a Symbol-keyed property of the light-my-request Request class made for it;
 * nothing a client sends can set one). The part's `request.db` is then `db`, the caller's
 * transaction, as long as the part authenticates as the same user (else it throws: fail
 * closed); `request.batchPart` tells the rate limit and the request log that it is a part.
 */
import type { FastifyPluginAsync, FastifyRequest, InjectOptions, LightMyRequestResponse } from 'fastify'
import { Readable } from 'node:stream'
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
    /** Set when this request runs as part of another one (injectPart), null otherwise. */
    readonly batchPart: BatchPart | null
    /**
     * Runs an in-process request as a part of this one, for this request's caller: its
     * `request.db` is `db`. It authenticates itself with the headers given.
     */
    injectPart: (db: Kysely<Database>, options: InjectOptions & BatchPartOptions) => Promise<LightMyRequestResponse>
  }
}

export interface BatchPartOptions {
  /** false: the part does not count against the rate limit (the request that runs it already did). */
  counted: boolean
}

export interface BatchPart extends BatchPartOptions {
  /** The caller of the request that runs this part. */
  userId: string
}

interface PartTicket extends BatchPart {
  db: Kysely<Database>
}

/** Only ever set by injectPart, on the prototype of the raw request it makes. */
const partTicket = Symbol('batch part ticket')

function ticketOf (request: FastifyRequest): PartTicket | undefined {
  return (request.raw as { [partTicket]?: PartTicket })[partTicket]
}

export interface DatabasePluginOptions {
  url: string
  poolMax: number
  statementTimeoutMs?: number
  rowLevelSecurity: boolean
  /** Named prepared statements (DATABASE_PREPARED_STATEMENTS); default true. */
  preparedStatements?: boolean
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
      preparedStatements: options.preparedStatements ?? true,
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
      const ticket = ticketOf(request)
      if (ticket !== undefined) {
        // A part runs in its caller's transaction, and only for that caller.
        if (ticket.userId !== userId) throw new Error('a request part authenticated as another user than the request that runs it')
        return ticket.db
      }
      request[boundDb] ??= forUser(userId)
      return request[boundDb]
    }
  })
  app.decorateRequest('batchPart', {
    getter (this: FastifyRequest) {
      const ticket = ticketOf(this)
      return ticket === undefined ? null : { userId: ticket.userId, counted: ticket.counted }
    }
  })
  app.decorateRequest('injectPart', async function (this: FastifyRequest, db: Kysely<Database>, { counted, ...options }: InjectOptions & BatchPartOptions) {
    const userId = (this.user as { id: string } | null)?.id
    if (userId === undefined) throw new Error('injectPart used on a route without an authenticated caller')
    // light-my-request makes its request object inherit from this class's prototype (without
    // calling its constructor): one class per part, so one ticket per part.
    class PartRequest extends Readable {}
    Object.defineProperty(PartRequest.prototype, partTicket, { value: { userId, counted, db } satisfies PartTicket })
    return await this.server.inject({ ...options, Request: PartRequest })
  })
}

export default fp(database, { name: 'database' })
