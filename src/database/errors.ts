/**
 * Which errors mean "the database cannot be reached" (answered 503, retried by clients)
 * rather than a fault of ours (500).
 */

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'])

// SQLSTATE classes 08 (connection exception) and 57P0x (operator intervention: shutdown,
// crash, cannot connect now), 53300 (too many connections) and 57014 (statement_timeout
// cancelled the statement: the database is overloaded).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-4]|53300|57014)$/

export function isDatabaseUnavailable (error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const { code, message } = error as { code?: unknown, message?: unknown }
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true
  if (typeof message === 'string' && /timeout exceeded when trying to connect|Connection terminated/i.test(message)) return true
  const cause = (error as { cause?: unknown }).cause
  return cause !== undefined && cause !== error && isDatabaseUnavailable(cause)
}

/**
 * A value PostgreSQL refused although the contract let it through: a date-time out of its
 * range (year 0, say). The client's error, answered 400 rather than 500.
 */
export function isOutOfRangeInput (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  // 22015: an interval out of range (a reminder's before_due of a million years).
  return code === '22007' || code === '22008' || code === '22015'
}

/**
 * A zone name PostgreSQL's own zone database does not know (`AT TIME ZONE`), although the
 * runtime's did: answered 400 naming `/time_zone`, as an unknown zone is.
 */
export function isUnknownTimeZone (error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown, message?: unknown }
  return code === '22023' && typeof message === 'string' && /time zone .* not recognized/.test(message)
}
