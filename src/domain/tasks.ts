/**
 * Tasks: rows → the contract's Task, and request bodies → the values and change sets the
 * repository writes. Pure: no I/O.
 */
import type { Task, TaskPatch, ValidatedSchemas } from '../contract/index.js'
import type { Reminder, TaskPriority, TaskRow } from '../database/types.js'
import { normalizeTags } from './tags.js'

export function toTask (row: TaskRow): Task {
  return {
    id: row.id,
    user_id: row.user_id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    completed_at: row.completed_at,
    priority: row.priority,
    due_at: row.due_at,
    due_date: row.due_date,
    time_zone: row.time_zone,
    recurrence_rule: row.recurrence_rule,
    reminders: row.reminders,
    category_id: row.category_id,
    parent_id: row.parent_id,
    position: row.position,
    tags: row.tags,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
    deleted_at: row.deleted_at
  }
}

/**
 * What a write may change. `completed: 'toggle'` flips it; the repository keeps
 * completed_at in step (set when the task becomes completed, cleared when reopened).
 */
export interface TaskChanges {
  title?: string
  description?: string | null
  priority?: TaskPriority
  due_at?: string | null
  due_date?: string | null
  time_zone?: string | null
  recurrence_rule?: string | null
  reminders?: Reminder[]
  category_id?: string | null
  /** A new parent puts the task last among its new siblings (the repository picks the position). */
  parent_id?: string | null
  /** Chosen by the repository only (a move, a new parent), never taken from a body. */
  position?: string
  tags?: string[]
  completed?: boolean | 'toggle'
}

/**
 * The full state a create or replace writes. The contract's validator has already filled
 * every omitted member with its default (openapi.yaml is the only place defaults are written).
 */
export function fullState (body: ValidatedSchemas['TaskCreate'] | ValidatedSchemas['TaskReplace']): Required<Omit<TaskChanges, 'completed' | 'position'>> & { completed: boolean } {
  return {
    title: body.title.trim(),
    description: body.description,
    priority: body.priority,
    due_at: body.due_at,
    due_date: body.due_date,
    time_zone: body.time_zone,
    recurrence_rule: body.recurrence_rule,
    reminders: normalizeReminders(body.reminders),
    category_id: body.category_id,
    parent_id: body.parent_id,
    tags: normalizeTags(body.tags),
    completed: body.completed
  }
}

/** Reminders as stored and answered: durations as written, `at` as the UTC form of the same instant. */
export function normalizeReminders (reminders: readonly Reminder[]): Reminder[] {
  return reminders.map((reminder) => 'at' in reminder ? { at: new Date(reminder.at).toISOString() } : { before_due: reminder.before_due })
}

/**
 * The problem with a body's due and zone, if any: both kinds of due set to values (API.md:
 * 400), or a zone the service does not know. `knowsZone` is the runtime's check (time-zones.ts).
 */
export function dueProblems (body: { due_at?: string | null, due_date?: string | null, time_zone?: string | null, reminders?: readonly Reminder[] }, knowsZone: (name: string) => boolean): Array<{ pointer: string, detail: string }> {
  const problems: Array<{ pointer: string, detail: string }> = []
  if (typeof body.due_at === 'string' && typeof body.due_date === 'string') {
    problems.push({ pointer: '/due_date', detail: 'cannot be set together with due_at: a task is due at an instant or on a date' })
  }
  // The contract's date-time format lets a leap second (…T23:59:60Z) through; no instant has it.
  for (const [index, reminder] of (body.reminders ?? []).entries()) {
    if ('at' in reminder && Number.isNaN(Date.parse(reminder.at))) problems.push({ pointer: `/reminders/${index}/at`, detail: 'is not an instant this service can keep' })
  }
  if (typeof body.time_zone === 'string' && !knowsZone(body.time_zone)) {
    problems.push({ pointer: '/time_zone', detail: 'is not an IANA time zone name this service knows (e.g. Europe/Berlin)' })
  }
  return problems
}

/** JSON merge patch (RFC 7396): only the members present change; null clears. */
export function patchChanges (patch: TaskPatch): TaskChanges {
  const changes: TaskChanges = {}
  if (patch.title !== undefined) changes.title = patch.title.trim()
  if (patch.description !== undefined) changes.description = patch.description
  if (patch.priority !== undefined) changes.priority = patch.priority
  if (patch.due_at !== undefined) changes.due_at = patch.due_at
  if (patch.due_date !== undefined) changes.due_date = patch.due_date
  if (patch.time_zone !== undefined) changes.time_zone = patch.time_zone
  if (patch.recurrence_rule !== undefined) changes.recurrence_rule = patch.recurrence_rule
  if (patch.reminders !== undefined) changes.reminders = normalizeReminders(patch.reminders)
  // A due set to a value replaces the other kind (API.md); both set to values is refused
  // before this (dueProblem).
  if (typeof patch.due_at === 'string') changes.due_date = null
  if (typeof patch.due_date === 'string') changes.due_at = null
  if (patch.category_id !== undefined) changes.category_id = patch.category_id
  if (patch.parent_id !== undefined) changes.parent_id = patch.parent_id
  if (patch.tags !== undefined) changes.tags = normalizeTags(patch.tags)
  if (patch.completed !== undefined) changes.completed = patch.completed
  return changes
}
