/**
 * The Kysely instance over a pg Pool. One per process; closed by the database plugin.
 */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Database } from './types.js'

export interface DatabaseOptions {
  url: string
  poolMax: number
  /** Called when an idle client fails (the server went away); without a listener pg would crash the process. */
  onPoolError?: (error: Error) => void
}

export function createDatabase ({ url, poolMax, onPoolError }: DatabaseOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'todo-contract'
  })
  pool.on('error', onPoolError ?? (() => {}))
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}
