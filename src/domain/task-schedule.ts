/**
 * What a task write means for its schedule (API.md "Recurrence"): whether the rule and the
 * due it would leave are valid together, where the rule starts, and whether completing the
 * task advances it to its next occurrence instead. Pure: the caller reads the task (locked)
 * and the user's zone, and writes what this decides.
 */
import type { Reminder } from '../database/types.js'
import type { FieldError } from '../errors.js'
import { type Due, nextOccurrence } from './recurrence.js'
import { parseRule, RuleError } from './recurrence-rule.js'
import type { TaskChanges } from './tasks.js'

/** The task as stored, as far as its schedule goes (undefined: a task being created). */
export interface ScheduleState {
  completed: boolean
  due_at: string | null
  due_date: string | null
  time_zone: string | null
  recurrence_rule: string | null
  recurrence_start_at: string | null
  recurrence_start_date: string | null
  reminders: Reminder[]
}

export interface SchedulePlan {
  /** The changes to write: the request's, with the due advanced and the completion dropped when it advances. */
  changes: TaskChanges
  /** The rule's start after the write (null: no rule); undefined: as stored. */
  start?: Due | null
  /** The occurrence this write completes, to record. */
  completed?: Due
}

const dueOf = (state: { due_at: string | null, due_date: string | null }): Due | undefined =>
  state.due_date !== null ? { date: state.due_date } : state.due_at !== null ? { at: state.due_at } : undefined

const sameDue = (a: Due | undefined, b: Due | undefined): boolean => {
  if (a === undefined || b === undefined) return a === b
  if ('date' in a || 'date' in b) return 'date' in a && 'date' in b && a.date === b.date
  return Date.parse(a.at) === Date.parse(b.at)
}

/**
 * Whether a write with these changes needs the schedule decided (and so the task read
 * first): 'always', 'if-recurring' (a completion: it advances a recurring task, and is a
 * plain write for any other), or 'never'.
 */
export function touchesSchedule (changes: TaskChanges): 'always' | 'if-recurring' | 'never' {
  if (changes.recurrence_rule !== undefined || changes.reminders !== undefined || changes.due_at !== undefined || changes.due_date !== undefined) return 'always'
  return changes.completed === true || changes.completed === 'toggle' ? 'if-recurring' : 'never'
}

/**
 * Decides the write; field errors (400, naming `/recurrence_rule` or `/reminders`) when the
 * rule, or a reminder before the due, cannot stand. `userZone` is the user's time_zone (null: UTC), used when the task has none.
 */
export function planSchedule (stored: ScheduleState | undefined, changes: TaskChanges, userZone: string | null): SchedulePlan | FieldError[] {
  const after = {
    due_at: changes.due_at !== undefined ? changes.due_at : stored?.due_at ?? null,
    due_date: changes.due_date !== undefined ? changes.due_date : stored?.due_date ?? null,
    time_zone: changes.time_zone !== undefined ? changes.time_zone : stored?.time_zone ?? null,
    rule: changes.recurrence_rule !== undefined ? changes.recurrence_rule : stored?.recurrence_rule ?? null
  }
  const due = dueOf(after)
  const reminders = changes.reminders ?? stored?.reminders ?? []
  const needingDue = reminders.findIndex((reminder) => 'before_due' in reminder)
  if (due === undefined && needingDue >= 0) {
    return [changes.reminders !== undefined
      ? { pointer: `/reminders/${needingDue}`, detail: 'a before_due reminder needs a due_at or due_date' }
      : { pointer: '/reminders', detail: 'the due cannot be cleared while a before_due reminder needs it (remove it in the same request)' }]
  }
  if (after.rule === null) return { changes, ...(stored?.recurrence_rule === null ? {} : { start: null }) }

  if (due === undefined) {
    const clearing = stored?.recurrence_rule !== null && stored?.recurrence_rule !== undefined && changes.recurrence_rule === undefined
    return [{
      pointer: '/recurrence_rule',
      detail: clearing
        ? 'the due of a recurring task can be cleared only together with its rule (send recurrence_rule: null too)'
        : 'a recurring task needs a due_at or due_date to start from'
    }]
  }
  try {
    parseRule(after.rule, 'date' in due ? 'all-day' : 'timed')
  } catch (error) {
    if (error instanceof RuleError) return [{ pointer: '/recurrence_rule', detail: error.message }]
    throw error
  }

  // The start moves to the current due when the rule's or the due's value changes.
  const storedDue = stored === undefined ? undefined : dueOf(stored)
  const storedStart: Due | undefined = stored?.recurrence_start_date != null
    ? { date: stored.recurrence_start_date }
    : stored?.recurrence_start_at != null ? { at: stored.recurrence_start_at } : undefined
  const restart = stored === undefined || stored.recurrence_rule !== after.rule || !sameDue(storedDue, due) || storedStart === undefined
  const start = restart ? due : storedStart as Due
  const plan: SchedulePlan = { changes, ...(restart ? { start } : {}) }

  const completing = changes.completed === true || changes.completed === 'toggle'
  if (!completing || stored?.completed === true) return plan
  const next = nextOccurrence(after.rule, start, due, after.time_zone ?? userZone ?? 'UTC')
  if (next === undefined) return { ...plan, changes: { ...changes, completed: true }, completed: due }
  const rest: TaskChanges = { ...changes }
  delete rest.completed
  const advanced: TaskChanges = 'date' in next ? { ...rest, due_date: next.date, due_at: null } : { ...rest, due_at: next.at, due_date: null }
  return { ...plan, changes: advanced, completed: due }
}
