/**
 * pg type parsing for this service. node-postgres turns every timestamptz into a Date, which
 * the API then turns back into a string: on a 50-task page that is 200 Date parses and
 * formats, about half the cost of the query in node. PostgreSQL already sends
 * `2026-01-10 09:30:00.12+00`; with the session in UTC a cheap reformat gives the RFC 3339
 * form the contract uses (`2026-01-10T09:30:00.120Z`). Other offsets, infinities and years
 * past 9999 go through pg's own parser.
 */
import pg from 'pg'

const TIMESTAMPTZ_OID = 1184
/** date: pg would make a Date at local midnight (a day off east or west of UTC); the text is the contract's form. */
const DATE_OID = 1082
const defaultTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID) as (text: string) => Date | number

/** `YYYY-MM-DD HH:MM:SS[.ffffff]+00` → `YYYY-MM-DDTHH:MM:SS.fffZ`. */
export function timestamptzToRfc3339 (text: string): string {
  if (text.length >= 22 && text.length <= 29 && text.charCodeAt(10) === 32 && text.endsWith('+00') && text.charCodeAt(4) === 45) {
    const fraction = text.length > 22 ? (text.slice(20, text.length - 3) + '00').slice(0, 3) : '000'
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction}Z`
  }
  const parsed = defaultTimestamptz(text)
  return parsed instanceof Date ? parsed.toISOString() : String(parsed)
}

export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return timestamptzToRfc3339
    if (oid === DATE_OID && format !== 'binary') return (text: string) => text
    return pg.types.getTypeParser(oid, format as 'text')
  }) as pg.CustomTypesConfig['getTypeParser']
}
