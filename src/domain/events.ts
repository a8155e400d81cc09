/**
 * Events as the API shows them (API.md part two, "Events"): `{ id, type, occurred_at, data }`,
 * the same JSON value on the stream and in a webhook's body. Made from rows of the change
 * record (db/migrations/202611281200_change_record.ts), whose `data` is the row after the
 * change as PostgreSQL's to_jsonb wrote it (or `{ id }` for a purge or a category deletion,
 * or `{ task, scheduled_for, late }` for a reminder that fired).
 * Pure.
 */
import type { Category, Task } from '../contract/index.js'
import type { CategoryRow, TaskRow } from '../database/types.js'
import { toCategory } from './representations.js'
import { toTask } from './tasks.js'

/** Digits of an event id: a bigint's 19, and one to spare. Byte order = numeric order. */
export const EVENT_ID_DIGITS = 20
export const EVENT_ID_PATTERN = new RegExp(`^[0-9]{${EVENT_ID_DIGITS}}$`)

export type EventType =
  | 'task.created' | 'task.updated' | 'task.completed' | 'task.reopened' | 'task.moved'
  | 'task.deleted' | 'task.restored' | 'task.purged'
  | 'category.created' | 'category.updated' | 'category.deleted'
  | 'reminder.fired'

export interface ApiEvent {
  id: string
  type: EventType
  occurred_at: string
  data: Task | Category | { id: string } | { task: Task, scheduled_for: string, late: boolean }
}

/** An events row as read. */
export interface EventRow {
  user_id: string
  seq: string
  type: string
  occurred_at: string
  data: unknown
}

export const eventId = (seq: string | bigint): string => String(seq).padStart(EVENT_ID_DIGITS, '0')

/** The change number of a well-formed event id. */
export const seqOf = (id: string): string => BigInt(id).toString()

/** to_jsonb writes timestamps as `2026-01-10T09:30:00.12+00:00`; the API's form is `…:00.120Z`. */
function timestamp (value: unknown): string | null {
  return typeof value === 'string' ? new Date(value).toISOString() : null
}

const TASK_TIMESTAMPS = ['completed_at', 'due_at', 'created_at', 'updated_at', 'deleted_at'] as const
const CATEGORY_TIMESTAMPS = ['created_at', 'updated_at'] as const

/** A task as an event stored it (to_jsonb of its row) → the contract's Task. */
function taskOf (stored: Record<string, unknown>, userId: string): Task {
  // Events written before a field existed (contract 1.5.0: due_date, time_zone; 1.6.0:
  // recurrence_rule; 1.7.0: reminders; 1.8.0: parent_id, position) lack it. Before 1.8.0
  // every task was top level, in creation order: the first key fractional-indexing gives
  // stands for that order.
  const task = { due_date: null, time_zone: null, recurrence_rule: null, reminders: [], parent_id: null, position: 'a0', ...stored, user_id: userId } as Record<string, unknown>
  for (const key of TASK_TIMESTAMPS) task[key] = timestamp(task[key])
  return toTask(task as unknown as TaskRow)
}

export function toEvent (row: EventRow): ApiEvent {
  const type = row.type as EventType
  const stored = row.data as Record<string, unknown>
  let data: ApiEvent['data']
  if (type === 'task.purged' || type === 'category.deleted') {
    data = { id: stored.id as string }
  } else if (type === 'reminder.fired') {
    data = { task: taskOf(stored.task as Record<string, unknown>, row.user_id), scheduled_for: timestamp(stored.scheduled_for) as string, late: stored.late === true }
  } else if (type.startsWith('task.')) {
    data = taskOf(stored, row.user_id)
  } else {
    const category = { ...stored, user_id: row.user_id } as Record<string, unknown>
    for (const key of CATEGORY_TIMESTAMPS) category[key] = timestamp(category[key])
    data = toCategory(category as unknown as CategoryRow)
  }
  return { id: eventId(row.seq), type, occurred_at: new Date(row.occurred_at).toISOString(), data }
}
