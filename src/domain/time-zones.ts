/**
 * IANA time zone names, as the service's runtime knows them (Node.js's ICU zone database,
 * which includes links such as `Asia/Calcutta` and `Etc/UTC`). Intl alone would also take
 * UTC offsets (`+01:00`); a zone is a name, so the
 * spelling must be a name's (letters, digits, `_`, `-`, `+`, parts joined by `/`).
 */
const NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/

export function isTimeZone (name: string): boolean {
  if (!NAME.test(name)) return false
  try {
    // Throws a RangeError for a zone the runtime does not know.
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone !== undefined
  } catch {
    return false
  }
}
