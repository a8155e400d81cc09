/**
 * The database of one process: a pg Pool and the Kysely instances over it (dialect.ts).
 * One per process; closed by whoever opened it (the database plugin, a script, a test).
 */
import { Kysely } from 'kysely'
import pg from 'pg'
import { ServiceDialect } from './dialect.js'
import { connectTimed, poolOpened } from '../metrics/signals.js'
import { poolEnder } from './pool-end.js'
import { explainStartupRefusal, loginDefaults, missingSettings } from './session-settings.js'
import { typeParsers } from './type-parsers.js'
import type { Database } from './types.js'

export interface DatabaseOptions {
  url: string
  poolMax: number
  /** PostgreSQL statement_timeout for every statement of these connections (0: none); undefined: the login's own. */
  statementTimeoutMs?: number
  /**
   * Role every connection works as from its first statement (`SET ROLE` at connection start,
   * no extra round trip); a plain identifier, and the login role must be a member of it.
   * Unset: the login role.
   */
  role?: string
  /**
   * Named prepared statements (default true); false behind a transaction-mode pooler that
   * does not track them (each statement then goes unnamed: parsed and planned every time).
   */
  preparedStatements?: boolean
  /** Called when an idle client fails (the server went away); without a listener pg would crash the process. */
  onPoolError?: (error: Error) => void
}

export interface DatabaseHandle {
  /**
   * Statements that name no user: migrations, service keys, readiness, fixtures. Under
   * row-level security (as role todo_app) they see no user's rows.
   */
  readonly db: Kysely<Database>
  /** Statements that each name this user to row-level security, whatever else they say. */
  forUser: (userId: string) => Kysely<Database>
  /** Ends the pool (also what `db.destroy()` does). */
  destroy: () => Promise<void>
  /** The database's connection string, as given (its user the owner: the job queue connects with it). */
  readonly url: string
}

/** Callers whose Kysely is kept; each is a handful of small objects. */
const MAX_SCOPED = 1_000

export function openDatabase ({ url, poolMax, statementTimeoutMs, role, preparedStatements = true, onPoolError }: DatabaseOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'todo-contract',
    types: typeParsers
  })
  // The role, statement_timeout and TimeZone=UTC (timestamps then stay on type-parsers.ts's
  // fast path) come from the login's per-role settings, or else as startup parameters
  // (session-settings.ts): read once before the first connection; a failed read (the database
  // away) is tried again at the next.
  let settled = false
  let settling: Promise<void> | undefined
  let startupOptions: string | undefined
  const settle = async (): Promise<void> => {
    settling ??= loginDefaults(url).then((defaults) => {
      startupOptions = missingSettings(defaults, { role, statementTimeoutMs })
      // pg-pool makes each new client from pool.options (pg-pool/index.js, newClient).
      if (startupOptions !== undefined) pool.options.options = startupOptions
      settled = true
    }, (error: unknown) => {
      settling = undefined
      throw error
    })
    await settling
  }
  const connect = async (): Promise<pg.PoolClient> => {
    if (!settled) await settle()
    try {
      return await connectTimed(pool)
    } catch (error) {
      throw explainStartupRefusal(error, startupOptions)
    }
  }
  const endPool = poolEnder(pool)
  const reportError = onPoolError ?? (() => {})
  pool.on('error', reportError)
  // pg-pool listens for a client's 'error' only while the client is idle; a server that goes
  // away during a statement makes the client emit 'error' while it is checked out, which
  // with no listener would crash the process. The statement itself fails (503), the pool
  // drops the broken client on release, and the error is reported here.
  pool.on('connect', (client) => { client.on('error', reportError) })
  const dialectOptions = { pool, connect, types: typeParsers, preparedStatements }
  // A user's Kysely is kept for their next requests: made per request it was a few µs of
  // constructors and their garbage on every one (profiled on a single-task read).
  const perUser = new Map<string, Kysely<Database>>()
  const db = new Kysely<Database>({ dialect: new ServiceDialect(dialectOptions) })
  poolOpened(db, pool)
  return {
    db,
    url,
    // A Kysely per user is a handful of small objects; the pool, and each connection's
    // prepared statements, are shared.
    // Every statement names its user (app.user_id) whatever the role: row-level security's
    // policies read it, and so does the change record's lock (db/migrations/…_change_record.ts),
    // which must be taken before any row whether or not the policies apply.
    forUser: (userId) => {
      let scoped = perUser.get(userId)
      if (scoped === undefined) {
        scoped = new Kysely<Database>({ dialect: new ServiceDialect({ ...dialectOptions, userId }) })
        // Recently seen callers only: the oldest goes first (a Map iterates in insertion order).
        if (perUser.size >= MAX_SCOPED) perUser.delete(perUser.keys().next().value as string)
        perUser.set(userId, scoped)
      }
      return scoped
    },
    // The pool is ended here, not only through db.destroy(): Kysely destroys a driver only
    // if that instance ever ran a query, and with every query sent through forUser the
    // unscoped one may never have (its idle clients would then hold the process open for
    // idleTimeoutMillis). Resolves once every connection has closed (pool-end.ts).
    destroy: async () => {
      await db.destroy()
      await endPool()
    }
  }
}

/** The unscoped Kysely alone, for scripts and fixtures; `destroy()` ends its pool. */
export function createDatabase (options: DatabaseOptions): Kysely<Database> {
  return openDatabase(options).db
}
