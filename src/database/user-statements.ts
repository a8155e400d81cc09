/**
 * Naming the caller for row-level security without a round trip of its own.
 *
 * The policies read `app.user_id`, which must be set inside the transaction of every
 * statement (src/database/user-scope.ts). Done plainly, that is a `BEGIN`, a
 * `SELECT set_config(…)` and a `COMMIT` around each request: three more round trips to
 * PostgreSQL, which measured as half the throughput of a single-row read. Instead, on a
 * client that has been told its user, each statement is sent in one pipeline behind the
 * setting, with one Sync: Bind/Execute of the prepared `set_config`, then the statement's own
 * Parse/Bind/Describe/Execute, then Sync. Everything before a Sync is one implicit transaction
 * (PostgreSQL protocol, "Extended Query"), so the setting holds for exactly that statement
 * and ends with it; inside an explicit transaction it simply repeats the same value.
 *
 * How a client is told its user: user-scope.ts runs `SET_USER_SQL` through Kysely on the
 * connection it reserved. This module recognises that exact statement, keeps the user on the
 * client instead of sending it, and forgets it whenever the pool hands the client out
 * ('acquire'), so a user never outlives the reservation it was set in. Were this module not
 * installed on a pool, SET_USER_SQL would run as its own implicit transaction and leave
 * nothing set: the statements after it would see no rows (fail closed), never another
 * user's.
 */
import pg from 'pg'

export const SET_USER_SQL = "SELECT set_config('app.user_id', $1, true)"
/** SET_USER_SQL prepared under this name on every connection when it opens. */
const SET_USER_STATEMENT = 'todo_set_user'
/** Transaction control is sent as is: the setting must follow BEGIN, and means nothing to COMMIT. */
const TRANSACTION_CONTROL = /^\s*(begin|start\s+transaction|commit|rollback|end|abort)\b/i

const userOf = new WeakMap<pg.PoolClient, string>()

/** The parts of pg's protocol connection used here (pg/lib/connection.js). */
interface ProtocolConnection {
  bind: (config: { portal: string, statement: string, values: unknown[], valueMapper?: unknown }) => void
  execute: (config: { portal: string, rows: number }) => void
}
/** The parts of pg's Query (pg/lib/query.js) overridden here: how it writes and reads the protocol. */
interface QueryInternals {
  prepare (connection: ProtocolConnection): void
  requiresPreparation (): boolean
  handleRowDescription (message: unknown): void
  handleDataRow (message: unknown): void
  handleCommandComplete (message: unknown, connection: unknown): void
}
const QueryBase = pg.Query as unknown as new (config: pg.QueryConfig) => QueryInternals

/** A statement sent behind SET_USER_SQL for `userId`, one Sync for both. */
class UserScopedQuery extends QueryBase {
  readonly #userId: string
  /** Responses of the leading set_config still to skip: its one row and its CommandComplete. */
  #leading = true

  constructor (config: pg.QueryConfig, userId: string) {
    super(config)
    this.#userId = userId
  }

  override requiresPreparation (): boolean {
    return true
  }

  override prepare (connection: ProtocolConnection): void {
    connection.bind({ portal: '', statement: SET_USER_STATEMENT, values: [this.#userId] })
    connection.execute({ portal: '', rows: 0 })
    // Parse (when new on this connection), Bind, Describe, Execute and the one Sync.
    super.prepare(connection)
  }

  override handleRowDescription (message: unknown): void {
    if (!this.#leading) super.handleRowDescription(message)
  }

  override handleDataRow (message: unknown): void {
    if (!this.#leading) super.handleDataRow(message)
  }

  override handleCommandComplete (message: unknown, connection: unknown): void {
    if (this.#leading) {
      this.#leading = false
      return
    }
    super.handleCommandComplete(message, connection)
  }
}

type QueryFunction = (...args: unknown[]) => unknown

/**
 * Installs the above on every client of the pool; call before the pool's first query.
 * `statementName` names each statement's text as a prepared statement (undefined: unnamed,
 * parsed each time).
 */
export function useUserStatements (pool: pg.Pool, statementName: (text: string) => string | undefined): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as QueryFunction
    // Prepared once per connection, so a pipeline never carries a Parse of its own.
    ;(query({ name: SET_USER_STATEMENT, text: SET_USER_SQL, values: [''] }) as Promise<unknown>).catch(() => {})
    ;(client as unknown as { query: QueryFunction }).query = (config: unknown, values?: unknown, callback?: unknown) => {
      if (typeof config !== 'string' || callback !== undefined) return query(config, values, callback)
      if (config === SET_USER_SQL && Array.isArray(values) && typeof values[0] === 'string') {
        userOf.set(client, values[0])
        return Promise.resolve({ command: 'SELECT', rowCount: 1, rows: [{ set_config: values[0] }], fields: [] })
      }
      const userId = userOf.get(client)
      if (userId === undefined || TRANSACTION_CONTROL.test(config)) return query(config, values)
      const name = statementName(config)
      const statement = new UserScopedQuery({ ...(name === undefined ? {} : { name }), text: config, values: (values ?? []) as unknown[] }, userId)
      return new Promise((resolve, reject) => {
        (statement as unknown as { callback: (error: Error | null, result: unknown) => void }).callback = (error, result) => {
          if (error !== null && error !== undefined) reject(error)
          else resolve(result)
        }
        query(statement)
      })
    }
  })
  // A user is told to a client within one reservation; the next one starts without.
  pool.on('acquire', (client) => { userOf.delete(client) })
}
