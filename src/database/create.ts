/**
 * The Kysely instance over a pg Pool. One per process; closed by the database plugin.
 */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { nameFor, usePreparedStatements } from './prepared-statements.js'
import { typeParsers } from './type-parsers.js'
import type { Database } from './types.js'
import { useUserStatements } from './user-statements.js'

export interface DatabaseOptions {
  url: string
  poolMax: number
  /** PostgreSQL statement_timeout for every statement of these connections (0 or undefined: none). */
  statementTimeoutMs?: number
  /**
   * Role every connection works as from its first statement (`SET ROLE` at connection start,
   * no extra round trip); a plain identifier, and the login role must be a member of it.
   * Unset: the login role.
   */
  role?: string
  /** Called when an idle client fails (the server went away); without a listener pg would crash the process. */
  onPoolError?: (error: Error) => void
}

export function createDatabase ({ url, poolMax, statementTimeoutMs, role, onPoolError }: DatabaseOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'todo-contract',
    // Timestamps arrive as RFC 3339 strings (type-parsers.ts); UTC keeps them on the fast path.
    options: '-c TimeZone=UTC' + (role === undefined ? '' : ` -c role=${role}`),
    ...(statementTimeoutMs === undefined || statementTimeoutMs === 0 ? {} : { statement_timeout: statementTimeoutMs }),
    types: typeParsers
  })
  pool.on('error', onPoolError ?? (() => {}))
  pool.on('connect', usePreparedStatements)
  useUserStatements(pool, nameFor)
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}
