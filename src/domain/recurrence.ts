/**
 * Occurrences of a recurring task (API.md "Recurrence"), with rrule-temporal (README, "Why
 * these libraries"): it evaluates the rule in the zone's own calendar (Temporal), so 09:00
 * Europe/Berlin stays 09:00 local across daylight-saving changes, and it counts COUNT and
 * compares UNTIL as RFC 5545 says. The rule was checked against the API's subset first
 * (recurrence-rule.ts): the library would silently ignore some bad values.
 *
 * A local time that does not exist on a day (02:30 on the spring-forward day) is no
 * occurrence that day, as RFC 5545 §3.3.10 says; the next one is the next day's.
 */
import { RRuleTemporal } from 'rrule-temporal'

/** The due a rule starts from and moves: an instant (timed task) or a date (all-day). */
export type Due = { at: string } | { date: string }

/** Iterations the library may spend on one answer: COUNT ≤ 10,000 occurrences, found well within it. */
const MAX_ITERATIONS = 200_000

const compact = (text: string): string => text.replace(/[-:]/g, '')

/** `YYYY-MM-DDTHH:MM:SS`: the wall-clock time of `instant` in `zone`. */
export function wallClock (instant: string, zone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'
  }).formatToParts(new Date(instant)).map((part) => [part.type, part.value]))
  return `${parts.year as string}-${parts.month as string}-${parts.day as string}T${parts.hour as string}:${parts.minute as string}:${parts.second as string}`
}

function ruleFrom (rule: string, start: Due, zone: string): RRuleTemporal {
  const dtstart = 'date' in start
    ? `DTSTART;VALUE=DATE:${compact(start.date)}`
    : `DTSTART;TZID=${zone}:${compact(wallClock(start.at, zone))}`
  // The start is the first occurrence even when the rule would not make it (API.md; RFC 5545:
  // DTSTART counts as the first instance): COUNT includes it.
  return new RRuleTemporal({ rruleString: `${dtstart}\nRRULE:${rule}`, strict: true, includeDtstart: true, maxIterations: MAX_ITERATIONS })
}

/**
 * The first occurrence strictly after `current` of `rule` started at `start`, in `zone`
 * (timed tasks; all-day ones move by whole dates); undefined when the rule is exhausted
 * (COUNT, UNTIL) or can never match again.
 */
export function nextOccurrence (rule: string, start: Due, current: Due, zone: string): Due | undefined {
  const recurrence = ruleFrom(rule, start, zone)
  let next
  try {
    next = recurrence.next(new Date('date' in current ? `${current.date}T00:00:00Z` : current.at), false)
  } catch (error) {
    // The library throws, rather than answering "none", for a rule that can never match
    // (BYMONTH=2;BYMONTHDAY=30) or that runs past its iteration budget.
    if (error instanceof Error && /iterations|candidate/i.test(error.message)) return undefined
    throw error
  }
  if (next === null) return undefined
  if ('date' in start) return { date: next.toPlainDate().toString() }
  return { at: new Date(next.epochMilliseconds + millisecondsOf(start)).toISOString() }
}

/**
 * RRULE counts whole seconds; a due keeps milliseconds. The rule runs on the start's whole
 * second, and its occurrences get the start's milliseconds back.
 */
const millisecondsOf = (due: Due): number => 'at' in due ? ((Date.parse(due.at) % 1000) + 1000) % 1000 : 0

/** Whether `due` is an occurrence of `rule` started at `start` in `zone`. */
export function isOccurrence (rule: string, start: Due, due: Due, zone: string): boolean {
  return ruleFrom(rule, start, zone).matches(new Date('date' in due ? `${due.date}T00:00:00Z` : Date.parse(due.at) - millisecondsOf(start)))
}
