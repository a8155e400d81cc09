/**
 * The RRULE subset (recurrence-rule.ts) and the occurrences (recurrence.ts): daylight saving
 * both ways in three hemispheres' zones, month ends, leap days, BYSETPOS, COUNT and UNTIL, and
 * a property: occurrences strictly increase and each lies on the rule.
 */
import fc from 'fast-check'
import t from 'tap'
import { type Due, isOccurrence, nextOccurrence } from '../../src/domain/recurrence.js'
import { parseRule, RuleError } from '../../src/domain/recurrence-rule.js'
import { holds } from '../helpers/properties.js'

/** The first `n` occurrences after the start (the start included). */
function occurrences (rule: string, start: Due, zone: string, n: number): string[] {
  const seen: Due[] = [start]
  while (seen.length < n) {
    const next = nextOccurrence(rule, start, seen[seen.length - 1] as Due, zone)
    if (next === undefined) break
    seen.push(next)
  }
  return seen.map((due) => 'date' in due ? due.date : due.at)
}

t.test('parseRule accepts the subset', async (t) => {
  for (const [rule, kind] of [
    ['FREQ=DAILY', 'timed'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU', 'timed'],
    ['FREQ=MONTHLY;BYDAY=1MO,-1FR', 'all-day'],
    ['FREQ=MONTHLY;BYMONTHDAY=-1', 'all-day'],
    ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', 'all-day'],
    ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3', 'all-day'],
    ['FREQ=DAILY;UNTIL=20270610', 'all-day'],
    ['FREQ=DAILY;UNTIL=20270610T090000Z', 'timed'],
    ['FREQ=YEARLY;BYDAY=20MO', 'all-day']
  ] as const) {
    t.doesNotThrow(() => parseRule(rule, kind), rule)
  }
})

t.test('parseRule refuses the rest, saying why', async (t) => {
  for (const [rule, kind, why] of [
    ['RRULE:FREQ=DAILY', 'timed', /without "RRULE:"/],
    ['FREQ=HOURLY', 'timed', /DAILY, WEEKLY, MONTHLY or YEARLY/],
    ['freq=DAILY', 'timed', /upper case: FREQ/],
    ['FREQ=daily', 'timed', /not daily/],
    ['INTERVAL=2', 'timed', /FREQ is required/],
    ['FREQ=DAILY;FREQ=WEEKLY', 'timed', /FREQ appears twice/],
    ['FREQ=DAILY;BYHOUR=9', 'timed', /BYHOUR is not supported/],
    ['FREQ=DAILY;INTERVAL=0', 'timed', /INTERVAL must be between 1 and 1000/],
    ['FREQ=DAILY;INTERVAL=x', 'timed', /whole number/],
    ['FREQ=WEEKLY;BYDAY=1MO', 'timed', /ordinals .* need FREQ=MONTHLY or FREQ=YEARLY/],
    ['FREQ=MONTHLY;BYDAY=XX', 'timed', /not a weekday/],
    ['FREQ=MONTHLY;BYDAY=6MO', 'timed', /between -5 and 5/],
    ['FREQ=MONTHLY;BYMONTHDAY=0', 'timed', /not 0/],
    ['FREQ=MONTHLY;BYMONTHDAY=32', 'timed', /between -31 and 31/],
    ['FREQ=WEEKLY;BYMONTHDAY=1', 'timed', /cannot be used with FREQ=WEEKLY/],
    ['FREQ=YEARLY;BYMONTH=13', 'timed', /between 1 and 12/],
    ['FREQ=MONTHLY;BYSETPOS=1', 'timed', /needs another BY part/],
    ['FREQ=DAILY;COUNT=2;UNTIL=20270610T090000Z', 'timed', /COUNT and UNTIL cannot both/],
    ['FREQ=DAILY;COUNT=0', 'timed', /COUNT must be between 1/],
    ['FREQ=DAILY;UNTIL=20270610', 'timed', /UTC date-time such as/],
    ['FREQ=DAILY;UNTIL=20270610T090000Z', 'all-day', /a date such as 20270610/],
    ['FREQ=DAILY;UNTIL=20270230', 'all-day', /not a real date/],
    ['FREQ=DAILY;WKST=XX', 'timed', /WKST must be a weekday/],
    ['FREQ=DAILY;', 'timed', /is not NAME=VALUE/],
    ['FREQ=DAILY;BYDAY=MO,,TU', 'timed', /empty item/],
    ['FREQ=DAILY;BYMONTH=', 'timed', /has no value/]
  ] as const) {
    let thrown: unknown
    try { parseRule(rule, kind) } catch (error) { thrown = error }
    t.ok(thrown instanceof RuleError, `${rule}: refused`)
    t.match((thrown as Error | undefined)?.message, why, `${rule}: says why`)
  }
})

t.test('daylight saving keeps the wall-clock time, both ways', async (t) => {
  // 09:00 local every day across each zone's spring and autumn changes (2026).
  t.same(occurrences('FREQ=DAILY', { at: '2026-03-28T08:00:00.000Z' }, 'Europe/Berlin', 3),
    ['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z'], 'Berlin, spring forward (29 March)')
  t.same(occurrences('FREQ=DAILY', { at: '2026-10-24T07:00:00.000Z' }, 'Europe/Berlin', 3),
    ['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z'], 'Berlin, fall back (25 October)')
  t.same(occurrences('FREQ=DAILY', { at: '2026-03-07T14:00:00.000Z' }, 'America/New_York', 3),
    ['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z'], 'New York, spring forward (8 March)')
  t.same(occurrences('FREQ=DAILY', { at: '2026-10-31T13:00:00.000Z' }, 'America/New_York', 3),
    ['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z', '2026-11-02T14:00:00.000Z'], 'New York, fall back (1 November)')
  t.same(occurrences('FREQ=DAILY', { at: '2026-04-03T22:00:00.000Z' }, 'Australia/Sydney', 3),
    ['2026-04-03T22:00:00.000Z', '2026-04-04T23:00:00.000Z', '2026-04-05T23:00:00.000Z'], 'Sydney, fall back (5 April)')
  t.same(occurrences('FREQ=DAILY', { at: '2026-10-02T23:00:00.000Z' }, 'Australia/Sydney', 3),
    ['2026-10-02T23:00:00.000Z', '2026-10-03T22:00:00.000Z', '2026-10-04T22:00:00.000Z'], 'Sydney, spring forward (4 October)')
  t.same(occurrences('FREQ=DAILY', { at: '2026-03-28T08:00:00.250Z' }, 'Europe/Berlin', 2),
    ['2026-03-28T08:00:00.250Z', '2026-03-29T07:00:00.250Z'], 'milliseconds of the start are kept')
  t.ok(isOccurrence('FREQ=DAILY', { at: '2026-03-28T08:00:00.250Z' }, { at: '2026-03-29T07:00:00.250Z' }, 'Europe/Berlin'), 'and recognised')
  t.same(occurrences('FREQ=WEEKLY', { at: '2026-03-23T08:00:00.000Z' }, 'Europe/Berlin', 2),
    ['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z'], 'weekly across the change too')
  t.same(occurrences('FREQ=DAILY', { at: '2026-03-28T01:30:00.000Z' }, 'Europe/Berlin', 3),
    ['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z'], '02:30 does not exist on 29 March: no occurrence that day')
})

t.test('all-day rules move by whole dates', async (t) => {
  t.same(occurrences('FREQ=MONTHLY;BYMONTHDAY=-1', { date: '2026-01-31' }, 'UTC', 4), ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30'], 'the last day of each month')
  t.same(occurrences('FREQ=MONTHLY', { date: '2026-01-31' }, 'UTC', 3), ['2026-01-31', '2026-03-31', '2026-05-31'], 'the 31st: months without one are skipped')
  t.same(occurrences('FREQ=YEARLY', { date: '2028-02-29' }, 'UTC', 3), ['2028-02-29', '2032-02-29', '2036-02-29'], '29 February: leap years only')
  t.same(occurrences('FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', { date: '2026-01-30' }, 'UTC', 3), ['2026-01-30', '2026-02-27', '2026-03-31'], 'the last weekday of the month')
  t.same(occurrences('FREQ=MONTHLY;BYDAY=1MO', { date: '2026-01-05' }, 'UTC', 3), ['2026-01-05', '2026-02-02', '2026-03-02'], 'the first Monday')
  t.same(occurrences('FREQ=DAILY', { date: '2026-03-28' }, 'Europe/Berlin', 3), ['2026-03-28', '2026-03-29', '2026-03-30'], 'dates do not care about daylight saving')
})

t.test('COUNT and UNTIL count from the start', async (t) => {
  t.same(occurrences('FREQ=DAILY;COUNT=3', { at: '2026-01-01T09:00:00.000Z' }, 'UTC', 10), ['2026-01-01T09:00:00.000Z', '2026-01-02T09:00:00.000Z', '2026-01-03T09:00:00.000Z'], 'COUNT=3: three occurrences')
  t.same(occurrences('FREQ=WEEKLY;BYDAY=MO;COUNT=2', { date: '2026-01-07' }, 'UTC', 10), ['2026-01-07', '2026-01-12'], 'a start off the rule (a Wednesday) is the first of COUNT')
  t.same(occurrences('FREQ=WEEKLY;UNTIL=20260115', { date: '2026-01-01' }, 'UTC', 10), ['2026-01-01', '2026-01-08', '2026-01-15'], 'UNTIL (a date) is inclusive')
  t.same(occurrences('FREQ=DAILY;UNTIL=20260103T080000Z', { at: '2026-01-01T09:00:00.000Z' }, 'UTC', 10), ['2026-01-01T09:00:00.000Z', '2026-01-02T09:00:00.000Z'], 'UNTIL (a UTC date-time) before the third')
  t.equal(nextOccurrence('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', { date: '2026-01-01' }, { date: '2026-01-01' }, 'UTC'), undefined, 'a rule that never matches: no next occurrence')
})

t.test('occurrences strictly increase and each lies on the rule (property)', async (t) => {
  const rules = fc.constantFrom(
    'FREQ=DAILY', 'FREQ=DAILY;INTERVAL=3', 'FREQ=WEEKLY;BYDAY=MO,TH', 'FREQ=MONTHLY;BYMONTHDAY=-1', 'FREQ=MONTHLY;BYDAY=2TU',
    'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1', 'FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU', 'FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,SA'
  )
  const zones = fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kathmandu', 'UTC')
  const starts = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => Math.floor(ms / 60_000) * 60_000)
  holds(t, fc.property(rules, zones, starts, fc.boolean(), (rule, zone, startMs, allDay) => {
    // The start must be an occurrence: take the first occurrence after a point before it.
    const seed: Due = allDay ? { date: new Date(startMs).toISOString().slice(0, 10) } : { at: new Date(startMs).toISOString() }
    const start = nextOccurrence(rule, seed, seed, zone)
    if (start === undefined) return true
    let current = start
    for (let i = 0; i < 12; i++) {
      const next = nextOccurrence(rule, start, current, zone)
      if (next === undefined) return false
      const key = (due: Due): string => 'date' in due ? due.date : due.at
      if (!(key(next) > key(current))) return false
      if (!isOccurrence(rule, start, next, zone)) return false
      current = next
    }
    return true
  }), 'strictly increasing, every one on the rule', { numRuns: 150 })
})
