/**
 * One statement sent as a user, in one round trip: the pg side of the user seam
 * (src/database/dialect.ts is the Kysely side).
 *
 * The row-level security policies read `app.user_id`, which must be set inside the
 * transaction of every statement. Done plainly that is `BEGIN`, `set_config`, the statement
 * and `COMMIT`: four round trips, measured as half the throughput of a single-row read.
 * Instead each statement goes out as one extended-query pipeline behind the setting, with one
 * Sync:
 *
 *   [Parse set_user]  Bind/Execute set_user($user)  [Parse stmt]  Bind/Describe/Execute stmt  Sync
 *
 * Everything before a Sync is one implicit transaction (PostgreSQL protocol, "Extended
 * Query"), so the setting holds for exactly this statement and ends with it: nothing
 * outlives the statement, which is what a transaction-mode pooler needs. Inside an explicit
 * transaction it simply repeats the same value.
 *
 * How it reaches the wire: a pg "Submittable" (`client.query(submittable)`, the extension
 * point pg-cursor and pg-query-stream use), written with pg's public `Connection` messages,
 * rows decoded by pg's exported `Result`, values encoded by pg's exported
 * `utils.prepareValue`. pg is pinned exactly in package.json, and
 * test/repositories/user-statement.test.ts fails loudly if an upgrade changes any of this.
 */
import pg from 'pg'

/**
 * The setting every policy reads (db/migrations/202611240800_row_level_security.ts), and the
 * promise that the service wakes the user's event streams once the write commits, so that
 * the write itself does not notify (db/migrations/202611290400_stream_wakeups_after_commit.ts).
 */
export const SET_USER_SQL = "SELECT set_config('app.user_id', $1, true), set_config('app.stream_wakeups', 'after-commit', true)"
/** Named after its text's version: a pooler's server connection may hold an earlier one. */
const SET_USER_STATEMENT = 'todo_set_user_2'

/** What pg's Result does that is used here (pg/lib/result.js; exported as pg.Result). */
interface RowDecoder {
  command: string | null
  rowCount: number | null
  rows: unknown[]
  addFields: (fields: unknown[]) => void
  parseRow: (fields: unknown[]) => unknown
  addRow: (row: unknown) => void
  addCommandComplete: (message: unknown) => void
}
const ResultClass = pg.Result as unknown as new (rowMode: string | undefined, types: pg.CustomTypesConfig) => RowDecoder
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils.prepareValue

export interface StatementResult {
  command: string | null
  rowCount: number | null
  rows: unknown[]
}

/**
 * Named statements prepared on one connection by this module (pg tracks its own separately;
 * the names differ). A statement whose pipeline failed may or may not have been parsed:
 * it is closed before it is parsed again (Close of a missing statement is not an error).
 */
class PreparedOnConnection {
  readonly #ready = new Set<string>()
  readonly #uncertain = new Set<string>()

  isReady (name: string): boolean { return this.#ready.has(name) }
  isUncertain (name: string): boolean { return this.#uncertain.has(name) }
  settle (names: string[], succeeded: boolean): void {
    for (const name of names) {
      if (succeeded) {
        this.#ready.add(name)
        this.#uncertain.delete(name)
      } else {
        this.#uncertain.add(name)
      }
    }
  }
}

/** A pg Submittable: `await new Promise(…)` on it via `client.query(statement)`. */
class UserStatement implements pg.Submittable {
  readonly #userId: string
  readonly #name: string
  readonly #text: string
  readonly #values: readonly unknown[]
  readonly #prepared: PreparedOnConnection
  readonly #result: RowDecoder
  readonly #done: (error: Error | null, result?: StatementResult) => void
  /** The set_config's own answer (one DataRow, one CommandComplete) is read past. */
  #settingAnswered = false
  /** Names this pipeline parses: prepared once it succeeds, uncertain if it fails. */
  readonly #parsed: string[] = []
  /** A value pg could not decode: reported once the pipeline ends (ReadyForQuery). */
  #decodeError: Error | undefined

  readonly #settingName: string

  constructor (options: { userId: string, name: string, settingName: string, text: string, values: readonly unknown[], types: pg.CustomTypesConfig, prepared: PreparedOnConnection, done: (error: Error | null, result?: StatementResult) => void }) {
    this.#userId = options.userId
    this.#name = options.name
    this.#settingName = options.settingName
    this.#text = options.text
    this.#values = options.values
    this.#prepared = options.prepared
    this.#result = new ResultClass(undefined, options.types)
    this.#done = options.done
  }

  /**
   * Writes the pipeline. Values are encoded before anything is written: a value pg cannot
   * encode (a BigInt inside an object, a throwing toPostgres) is returned as an Error, which
   * pg hands to handleError before it moves on, instead of leaving half a pipeline without
   * its Sync on the wire (the connection would never answer again).
   */
  submit (connection: pg.Connection): Error | undefined {
    let values: unknown[]
    try {
      values = this.#values.map((value) => prepareValue(value))
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error))
    }
    const stream = connection.stream as { cork?: () => void, uncork?: () => void }
    // One write for the whole pipeline (as pg's own Query does).
    stream.cork?.()
    try {
      this.#parse(connection, this.#settingName, SET_USER_SQL)
      connection.bind({ portal: '', statement: this.#settingName, values: [this.#userId] } as pg.BindConfig, false)
      connection.execute({ portal: '' }, false)
      this.#parse(connection, this.#name, this.#text)
      connection.bind({ portal: '', statement: this.#name, values } as pg.BindConfig, false)
      connection.describe({ type: 'P', name: '' }, false)
      connection.execute({ portal: '' }, false)
      connection.sync()
    } finally {
      stream.uncork?.()
    }
    return undefined
  }

  /** `name` '' is the unnamed statement: parsed every time, never tracked. */
  #parse (connection: pg.Connection, name: string, text: string): void {
    if (name === '') {
      connection.parse({ name, text, types: [] }, false)
      return
    }
    if (this.#prepared.isReady(name)) return
    if (this.#prepared.isUncertain(name)) connection.close({ type: 'S', name }, false)
    connection.parse({ name, text, types: [] }, false)
    this.#parsed.push(name)
  }

  handleRowDescription (message: { fields: unknown[] }): void {
    this.#result.addFields(message.fields)
  }

  handleDataRow (message: { fields: unknown[] }): void {
    if (!this.#settingAnswered || this.#decodeError !== undefined) return
    try {
      this.#result.addRow(this.#result.parseRow(message.fields))
    } catch (error) {
      this.#decodeError = error as Error
    }
  }

  handleCommandComplete (message: unknown): void {
    if (!this.#settingAnswered) {
      this.#settingAnswered = true
      return
    }
    this.#result.addCommandComplete(message)
  }

  /** A statement with empty text: no CommandComplete follows. */
  handleEmptyQuery (): void {}

  handleError (error: Error): void {
    this.#prepared.settle(this.#parsed, false)
    this.#done(error)
  }

  handleReadyForQuery (): void {
    this.#prepared.settle(this.#parsed, true)
    if (this.#decodeError !== undefined) {
      this.#done(this.#decodeError)
      return
    }
    this.#done(null, { command: this.#result.command, rowCount: this.#result.rowCount, rows: this.#result.rows })
  }

  /** Only for statements that keep a portal open (never sent here). */
  handlePortalSuspended (): void {}

  /** COPY is never sent through here; refuse it as pg's own Query does. */
  handleCopyInResponse (connection: pg.Connection): void {
    (connection as unknown as { sendCopyFail: (message: string) => void }).sendCopyFail('COPY is not supported here')
  }

  handleCopyData (): void {}
}

/** Per pg client: the statements this module has prepared on it. */
const preparedByClient = new WeakMap<pg.ClientBase, PreparedOnConnection>()

/**
 * Sends one statement as `userId` on `client` (name '' for the unnamed statement) and
 * resolves with its result; the one way the dialect and the bench's floor send a statement.
 * `prepared: false` sends the setting unnamed too: nothing named is left on the connection
 * (behind a transaction-mode pooler, the next pipeline may reach another server connection).
 */
export async function sendAsUser (client: pg.ClientBase, { prepared: named = true, ...statement }: { userId: string, name: string, prepared?: boolean, text: string, values: readonly unknown[], types: pg.CustomTypesConfig }): Promise<StatementResult> {
  let prepared = preparedByClient.get(client)
  if (prepared === undefined) {
    prepared = new PreparedOnConnection()
    preparedByClient.set(client, prepared)
  }
  const on = prepared
  return await new Promise<StatementResult>((resolve, reject) => {
    client.query(new UserStatement({
      ...statement,
      settingName: named ? SET_USER_STATEMENT : '',
      prepared: on,
      done: (error, outcome) => { if (error === null) resolve(outcome as StatementResult); else reject(error) }
    }))
  })
}
