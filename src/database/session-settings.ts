/**
 * What every connection of the service's pool must have, and how it gets it.
 *
 * The pool needs its sessions to work as the service's role (under row-level security), with
 * the configured statement_timeout and TimeZone UTC (type-parsers.ts reads timestamps on its
 * fast path then). There are two ways to give a session settings that hold for every
 * statement, and only one survives a transaction-mode pooler:
 *
 * - Startup parameters (`options=-c role=…`, `statement_timeout`): no round trip, but a pooler
 *   such as PgBouncer refuses the ones it does not know (`unsupported startup parameter`) or,
 *   listed in its ignore_startup_parameters, drops them, so they never reach PostgreSQL.
 * - Per-role settings (`ALTER ROLE login SET role = …`, README "Production roles"): PostgreSQL
 *   applies them at every login of that role, whether the login is the service's own or a
 *   pooler's server connection, and `RESET ALL`/`DISCARD ALL` return to them.
 *
 * (A session-level `SET` after connecting would be the third way, and the wrong one behind a
 * pooler: it stays on the server connection, which the next client gets.)
 *
 * So the settings are read once, on a connection opened with no startup parameters, before
 * the pool opens its first: what the login already has is not sent again. Connected straight
 * to PostgreSQL as a login without per-role settings (the embedded database, the test suite),
 * everything goes as startup parameters, as before; logged in as the documented production
 * role, nothing does, directly or through a pooler.
 */
import pg from 'pg'

export interface WantedSettings {
  /** The role every statement runs as; undefined: the login role as it is. */
  role?: string | undefined
  /** statement_timeout in milliseconds (0: none); undefined: whatever the login has. */
  statementTimeoutMs?: number | undefined
}

interface LoginDefaults {
  role: string
  statementTimeoutMs: number
  timeZone: string
}

/** Time zones that are UTC by another name (what `ALTER ROLE … SET timezone` may read back as). */
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'UCT', 'Etc/UCT', 'Zulu', 'Etc/Zulu', 'Universal', 'Etc/Universal'])

/** Reads what a session of this login gets with no startup parameters. */
export async function loginDefaults (url: string): Promise<LoginDefaults> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'todo-contract' })
  // An error after connecting (the server going away) must not crash the process.
  client.on('error', () => {})
  await client.connect()
  try {
    const { rows } = await client.query<{ role: string, statement_timeout_ms: string, time_zone: string }>(
      "SELECT current_user AS role, setting AS statement_timeout_ms, current_setting('TimeZone') AS time_zone FROM pg_settings WHERE name = 'statement_timeout'"
    )
    const row = rows[0]
    if (row === undefined) throw new Error('statement_timeout is missing from pg_settings')
    // pg_settings gives statement_timeout in its unit, milliseconds.
    return { role: row.role, statementTimeoutMs: Number(row.statement_timeout_ms), timeZone: row.time_zone }
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * The `options` startup parameter that gives a session of this login what `wanted` asks and
 * the login does not already give; undefined when it gives all of it.
 */
export function missingSettings (defaults: LoginDefaults, wanted: WantedSettings): string | undefined {
  const settings: string[] = []
  if (wanted.role !== undefined && defaults.role !== wanted.role) settings.push(`-c role=${wanted.role}`)
  const timeout = wanted.statementTimeoutMs
  if (timeout !== undefined && defaults.statementTimeoutMs !== timeout) settings.push(`-c statement_timeout=${timeout}`)
  if (!UTC_NAMES.has(defaults.timeZone)) settings.push('-c TimeZone=UTC')
  return settings.length === 0 ? undefined : settings.join(' ')
}

/**
 * A connection error a pooler gives for a startup parameter it does not take, explained: the
 * login needs its settings per role instead.
 */
export function explainStartupRefusal (error: unknown, options: string | undefined): unknown {
  const message = (error as { message?: unknown } | null)?.message
  if (options === undefined || typeof message !== 'string' || !/startup parameter/i.test(message)) return error
  return new Error(
    `${message}: the database's login gives its sessions less than the service needs (${options}), ` +
    'and something between them (a pooler) does not pass startup parameters on. Give the login role these settings ' +
    "itself (README, \"Production roles\": ALTER ROLE … SET role / statement_timeout / timezone = 'UTC')",
    { cause: error }
  )
}
