/**
 * The RRULE subset of API.md "Recurrence" (RFC 5545 §3.3.10, without the `RRULE:` prefix):
 * FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, BYDAY (ordinals only for MONTHLY and
 * YEARLY), BYMONTHDAY, BYMONTH, BYSETPOS, COUNT, UNTIL, WKST. Names and values upper case,
 * each part at most once, COUNT not with UNTIL, UNTIL a date for an all-day task and a UTC
 * date-time for a timed one. Pure: checks the text and says what is wrong in one sentence;
 * the arithmetic is recurrence.ts's.
 */

export type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY'
export type Weekday = 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU'
export type DueKind = 'timed' | 'all-day'

export interface RuleParts {
  freq: Frequency
  interval?: number
  byDay?: Array<{ day: Weekday, ordinal?: number }>
  byMonthDay?: number[]
  byMonth?: number[]
  bySetPos?: number[]
  count?: number
  /** `YYYYMMDD` (all-day) or `YYYYMMDDTHHMMSSZ` (timed), as written. */
  until?: string
  wkst?: Weekday
}

const FREQUENCIES = new Set(['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'])
const WEEKDAYS = new Set(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'])
const PARTS = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'BYSETPOS', 'COUNT', 'UNTIL', 'WKST'])
/** Bounds of this service, not of RFC 5545: enough for any todo, small enough to compute fast. */
export const MAX_INTERVAL = 1000
export const MAX_COUNT = 10000

export class RuleError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'RuleError'
  }
}

function integer (part: string, value: string, min: number, max: number, zero = false): number {
  if (!/^[+-]?\d{1,5}$/.test(value)) throw new RuleError(`${part} must be a whole number, not "${value}"`)
  const n = Number(value)
  if ((n === 0 && !zero) || Math.abs(n) > max || (min > 0 && n < min)) {
    throw new RuleError(min > 0 ? `${part} must be between ${min} and ${max}` : `${part} must be between -${max} and ${max}, not 0`)
  }
  return n
}

function list (part: string, value: string): string[] {
  const items = value.split(',')
  if (items.some((item) => item === '')) throw new RuleError(`${part} has an empty item`)
  if (new Set(items).size !== items.length) throw new RuleError(`${part} repeats an item`)
  return items
}

function validDate (year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

function until (value: string, kind: DueKind): string {
  const match = kind === 'all-day' ? /^(\d{4})(\d{2})(\d{2})$/.exec(value) : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (match === null) {
    throw new RuleError(kind === 'all-day'
      ? `UNTIL of an all-day task is a date such as 20270610, not "${value}"`
      : `UNTIL of a task due at a time is a UTC date-time such as 20270610T090000Z, not "${value}"`)
  }
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number) as [number, number, number, number?, number?, number?]
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) throw new RuleError(`UNTIL ${value} is not a real date`)
  return value
}

/** The parts of `text`, or a RuleError saying what is wrong. */
export function parseRule (text: string, kind: DueKind): RuleParts {
  if (text.startsWith('RRULE:')) throw new RuleError('the rule is the value alone, without "RRULE:"')
  const seen = new Map<string, string>()
  for (const piece of text.split(';')) {
    const equals = piece.indexOf('=')
    if (equals <= 0) throw new RuleError(`"${piece}" is not NAME=VALUE`)
    const name = piece.slice(0, equals)
    const value = piece.slice(equals + 1)
    if (!PARTS.has(name)) {
      throw new RuleError(PARTS.has(name.toUpperCase()) ? `part names are upper case: ${name.toUpperCase()}` : `${name} is not supported (FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, COUNT, UNTIL, WKST are)`)
    }
    if (seen.has(name)) throw new RuleError(`${name} appears twice`)
    if (value === '') throw new RuleError(`${name} has no value`)
    seen.set(name, value)
  }
  const freq = seen.get('FREQ')
  if (freq === undefined) throw new RuleError('FREQ is required')
  if (!FREQUENCIES.has(freq)) throw new RuleError(`FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not ${freq}`)
  const rule: RuleParts = { freq: freq as Frequency }

  const interval = seen.get('INTERVAL')
  if (interval !== undefined) rule.interval = integer('INTERVAL', interval, 1, MAX_INTERVAL)

  const byDay = seen.get('BYDAY')
  if (byDay !== undefined) {
    const ordinalsAllowed = rule.freq === 'MONTHLY' || rule.freq === 'YEARLY'
    rule.byDay = list('BYDAY', byDay).map((item) => {
      const match = /^([+-]?\d{1,2})?([A-Z]{2})$/.exec(item)
      if (match === null || !WEEKDAYS.has(match[2] as string)) throw new RuleError(`BYDAY item "${item}" is not a weekday (MO … SU), optionally with an ordinal (1MO, -1FR)`)
      const day = match[2] as Weekday
      if (match[1] === undefined) return { day }
      if (!ordinalsAllowed) throw new RuleError(`BYDAY ordinals (${item}) need FREQ=MONTHLY or FREQ=YEARLY`)
      return { day, ordinal: integer('a BYDAY ordinal', match[1], 0, rule.freq === 'MONTHLY' ? 5 : 53) }
    })
  }

  const byMonthDay = seen.get('BYMONTHDAY')
  if (byMonthDay !== undefined) {
    if (rule.freq === 'WEEKLY') throw new RuleError('BYMONTHDAY cannot be used with FREQ=WEEKLY')
    rule.byMonthDay = list('BYMONTHDAY', byMonthDay).map((item) => integer('BYMONTHDAY', item, 0, 31))
  }

  const byMonth = seen.get('BYMONTH')
  if (byMonth !== undefined) rule.byMonth = list('BYMONTH', byMonth).map((item) => integer('BYMONTH', item, 1, 12))

  const bySetPos = seen.get('BYSETPOS')
  if (bySetPos !== undefined) {
    if (rule.byDay === undefined && rule.byMonthDay === undefined && rule.byMonth === undefined) {
      throw new RuleError('BYSETPOS needs another BY part (BYDAY, BYMONTHDAY or BYMONTH) to choose from')
    }
    rule.bySetPos = list('BYSETPOS', bySetPos).map((item) => integer('BYSETPOS', item, 0, 366))
  }

  const count = seen.get('COUNT')
  const untilValue = seen.get('UNTIL')
  if (count !== undefined && untilValue !== undefined) throw new RuleError('COUNT and UNTIL cannot both be given')
  if (count !== undefined) rule.count = integer('COUNT', count, 1, MAX_COUNT)
  if (untilValue !== undefined) rule.until = until(untilValue, kind)

  const wkst = seen.get('WKST')
  if (wkst !== undefined) {
    if (!WEEKDAYS.has(wkst)) throw new RuleError(`WKST must be a weekday (MO … SU), not ${wkst}`)
    rule.wkst = wkst as Weekday
  }
  return rule
}
