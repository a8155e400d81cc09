/**
 * The Kysely dialect of this service: PostgreSQL over a pg Pool, with the user seam built in.
 *
 * A Kysely made by `forUser(id)` sends each statement as that user (src/database/
 * user-statement.ts: the row-level security setting in the same round trip as the statement,
 * ending with it); the unscoped Kysely names nobody, so under row-level security it sees no
 * user's rows (fail closed). Both run parameterised statements as named prepared statements:
 * each connection parses and plans a text once and then only binds and executes it, which on
 * the hot reads is PostgreSQL CPU saved on every request. Behind a transaction-mode pooler
 * that does not track them (PgBouncer before 1.21, or without max_prepared_statements) a
 * statement prepared on one server connection is missing, or already there, on the next:
 * DATABASE_PREPARED_STATEMENTS=false sends every statement unnamed instead.
 *
 * Everything here is Kysely's public Dialect/Driver/DatabaseConnection interface and pg's
 * public client API: no pg internals are patched.
 */
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings
} from 'kysely'
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { statementFailed } from '../metrics/signals.js'
import { isDatabaseUnavailable } from './errors.js'
import { sendAsUser, type StatementResult } from './user-statement.js'

const names = new Map<string, { plain: string, asUser: string }>()
const MAX_NAMES = 2_000

/**
 * The statement names of a text, derived from it so that a name never stands for two texts:
 * one as pg prepares it (unscoped), one as user-statement.ts prepares it (each connection
 * tracks those two kinds apart, so they must not share a name).
 */
export function statementNames (text: string): { plain: string, asUser: string } {
  let named = names.get(text)
  if (named === undefined) {
    const digest = createHash('sha1').update(text).digest('base64url')
    named = { plain: 'k' + digest, asUser: 'u' + digest }
    if (names.size >= MAX_NAMES) names.clear()
    names.set(text, named)
  }
  return named
}

/**
 * One compiler and adapter for every Kysely over this dialect. Kysely asks each new instance
 * for its own, and a compiler builds a table of some hundred visitor functions when made:
 * with a Kysely per request (one per caller) that table cost as much as the rest of Kysely's
 * work (measured: get at 0.68 of the floor instead of 1.09). Compiling is synchronous, so one
 * compiler serves every instance.
 */
const compiler = new PostgresQueryCompiler()
const adapter = new PostgresAdapter()

const AFFECTING = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE'])

function toQueryResult<R> ({ command, rowCount, rows }: StatementResult | pg.QueryResult): QueryResult<R> {
  return {
    rows: (rows ?? []) as R[],
    ...(command !== null && AFFECTING.has(command) ? { numAffectedRows: BigInt(rowCount ?? 0) } : {})
  }
}

/** One pooled client, reserved for one Kysely connection; `userId` set: every statement names it. */
class ServiceConnection implements DatabaseConnection {
  readonly #client: pg.PoolClient
  readonly #userId: string | undefined
  readonly #types: pg.CustomTypesConfig
  readonly #prepared: boolean
  #broken = false

  constructor (client: pg.PoolClient, { userId, types, preparedStatements }: ServiceDialectOptions) {
    this.#client = client
    this.#userId = userId
    this.#types = types
    this.#prepared = preparedStatements
  }

  async executeQuery<R> (compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.#execute<R>(compiled)
    } catch (error) {
      statementFailed(error)
      // The server ended this session (shutdown, terminated backend, lost socket): the client
      // must not go back to the pool, where the next request would get it before pg notices.
      if (isDatabaseUnavailable(error) || (error as { severity?: unknown }).severity === 'FATAL') this.#broken = true
      throw error
    }
  }

  async #execute<R> (compiled: CompiledQuery): Promise<QueryResult<R>> {
    const values = compiled.parameters as unknown[]
    if (this.#userId === undefined) {
      // Unparameterised texts (DDL, maintenance) are sent as they are.
      if (values.length === 0) return toQueryResult(await this.#client.query(compiled.sql))
      return toQueryResult(await this.#client.query(this.#prepared ? { name: statementNames(compiled.sql).plain, text: compiled.sql, values } : { text: compiled.sql, values }))
    }
    // As a user, every statement carries the setting, parameters or not (transaction control
    // goes through `control`).
    const result = await sendAsUser(this.#client, { userId: this.#userId, name: this.#prepared ? statementNames(compiled.sql).asUser : '', prepared: this.#prepared, text: compiled.sql, values, types: this.#types })
    return toQueryResult(result)
  }

  /** Transaction control: never preceded by the setting (it must follow BEGIN, and means nothing to COMMIT). */
  async control (sql: string): Promise<void> {
    await this.#client.query(sql)
  }

  async * streamQuery<R> (): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by this dialect')
  }

  release (): void {
    // A truthy argument tells pg-pool to destroy the client rather than keep it.
    this.#client.release(this.#broken)
  }
}

/** Savepoint names are written into the statement: plain identifiers only. */
function savepointName (name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain savepoint name: ${name}`)
  return name
}

class ServiceDriver implements Driver {
  readonly #options: ServiceDialectOptions
  readonly #pool: pg.Pool
  readonly #ownsPool: boolean

  constructor (options: ServiceDialectOptions) {
    this.#options = options
    this.#pool = options.pool
    // The unscoped Kysely owns the pool; a user's Kysely only borrows it.
    this.#ownsPool = options.userId === undefined
  }

  async init (): Promise<void> {}

  async acquireConnection (): Promise<DatabaseConnection> {
    return new ServiceConnection(await this.#options.connect(), this.#options)
  }

  async beginTransaction (connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const mode = [
      ...(settings.isolationLevel === undefined ? [] : [`isolation level ${settings.isolationLevel}`]),
      ...(settings.accessMode === undefined ? [] : [settings.accessMode])
    ]
    await (connection as ServiceConnection).control(mode.length === 0 ? 'begin' : `start transaction ${mode.join(' ')}`)
  }

  async commitTransaction (connection: DatabaseConnection): Promise<void> {
    await (connection as ServiceConnection).control('commit')
  }

  async rollbackTransaction (connection: DatabaseConnection): Promise<void> {
    await (connection as ServiceConnection).control('rollback')
  }

  // Savepoints are transaction control too: ROLLBACK TO must reach a transaction that a failed
  // statement aborted, where the setting itself would be refused.
  async savepoint (connection: DatabaseConnection, name: string): Promise<void> {
    await (connection as ServiceConnection).control(`savepoint ${savepointName(name)}`)
  }

  async rollbackToSavepoint (connection: DatabaseConnection, name: string): Promise<void> {
    await (connection as ServiceConnection).control(`rollback to savepoint ${savepointName(name)}`)
  }

  async releaseSavepoint (connection: DatabaseConnection, name: string): Promise<void> {
    await (connection as ServiceConnection).control(`release savepoint ${savepointName(name)}`)
  }

  async releaseConnection (connection: DatabaseConnection): Promise<void> {
    (connection as ServiceConnection).release()
  }

  /** The unscoped Kysely owns the pool; a user's Kysely only borrows it. */
  async destroy (): Promise<void> {
    if (this.#ownsPool && !this.#pool.ended && !this.#pool.ending) await this.#pool.end()
  }
}

export interface ServiceDialectOptions {
  pool: pg.Pool
  /** A client of `pool`, its session as the service needs it (create.ts). */
  connect: () => Promise<pg.PoolClient>
  types: pg.CustomTypesConfig
  /** Named prepared statements; false: every statement unnamed (behind a transaction-mode pooler). */
  preparedStatements: boolean
  /** Set: every statement names this user. Undefined: statements name no user. */
  userId?: string
}

export class ServiceDialect implements Dialect {
  readonly #options: ServiceDialectOptions

  constructor (options: ServiceDialectOptions) {
    this.#options = options
  }

  createDriver (): Driver {
    return new ServiceDriver(this.#options)
  }

  createQueryCompiler (): QueryCompiler {
    return compiler
  }

  createAdapter (): DialectAdapter {
    return adapter
  }

  createIntrospector (db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db)
  }
}
