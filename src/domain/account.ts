/**
 * The account's export document (API.md part two, "Account"): its name and parts, and what an
 * import must check before anything is written. Pure: no I/O.
 */
import type { ValidatedSchemas } from '../contract/index.js'
import type { TaskCompletionRow } from '../database/types.js'
import type { FieldError } from '../errors.js'
import { normalizeTags } from './tags.js'
import { dueProblems, normalizeReminders } from './tasks.js'
import { planSchedule } from './task-schedule.js'

export const EXPORT_FORMAT = 'todo-contract-export/1'

export type AccountExport = ValidatedSchemas['AccountExport']
export type ExportedTask = AccountExport['tasks'][number]
export type ExportedCompletion = AccountExport['completions'][number]

/** API.md: trees are at most 4 levels deep (the trash does not count). */
export const MAX_DEPTH = 4
/** A problem answer names at most this many fields: a broken 100,000-task document is not answered with 100,000 of them. */
export const MAX_REPORTED = 100

/** `todo-export-YYYY-MM-DD.json`, the date (UTC) of the export. */
export function exportFileName (exportedAt: string): string {
  return `todo-export-${exportedAt.slice(0, 10)}.json`
}

export function toExportedCompletion (row: TaskCompletionRow): ExportedCompletion {
  return { task_id: row.task_id, occurrence_due: row.occurrence_date ?? row.occurrence_at as string, completed_at: row.completed_at }
}

/** A task as the import writes it: the representation's values, and the start of its rule. */
export interface TaskToImport extends Omit<ExportedTask, 'user_id'> {
  recurrence_start_at: string | null
  recurrence_start_date: string | null
}

export interface ImportPlan {
  /** Values the service cannot take (a zone it does not know, a rule that cannot stand): 400. */
  invalid: FieldError[]
  /** References that do not hold together inside the document: 422. */
  unprocessable: FieldError[]
  /**
   * Indexes into `tasks`, level by level: every task's parent is on an earlier level (the
   * order the tree's rules need, row by row). Meaningful only without problems.
   */
  levels: number[][]
  /** The tasks to write, by the document's index. */
  tasks: TaskToImport[]
}

/**
 * Checks a document before anything of it is written, and orders its tasks for writing.
 * `knowsZone` is the runtime's check (time-zones.ts). A recurring task's rule starts at its
 * current due, as a new task's would: the export does not carry an earlier start.
 */
export function planImport (document: AccountExport, knowsZone: (name: string) => boolean): ImportPlan {
  const invalid: FieldError[] = []
  const unprocessable: FieldError[] = []

  const userZone = document.user.time_zone
  if (!knowsZone(userZone)) invalid.push({ pointer: '/user/time_zone', detail: 'is not an IANA time zone name this service knows (e.g. Europe/Berlin)' })

  const categoryIndex = new Map<string, number>()
  const names = new Map<string, number>()
  document.categories.forEach((category, index) => {
    const earlier = categoryIndex.get(category.id)
    if (earlier !== undefined) unprocessable.push({ pointer: `/categories/${index}/id`, detail: `repeats the id of /categories/${earlier}` })
    else categoryIndex.set(category.id, index)
    // The same rule as categories_user_name_key (lower(name)).
    const name = category.name.toLowerCase()
    const named = names.get(name)
    if (named !== undefined) unprocessable.push({ pointer: `/categories/${index}/name`, detail: `repeats the name of /categories/${named} (names are unique regardless of case)` })
    else names.set(name, index)
  })

  const taskIndex = new Map<string, number>()
  document.tasks.forEach((task, index) => {
    const earlier = taskIndex.get(task.id)
    if (earlier !== undefined) unprocessable.push({ pointer: `/tasks/${index}/id`, detail: `repeats the id of /tasks/${earlier}` })
    else taskIndex.set(task.id, index)
  })

  const tasks: TaskToImport[] = []
  const parentOf: Array<number | undefined> = []
  document.tasks.forEach((task, index) => {
    const at = `/tasks/${index}`
    if (task.category_id !== null && !categoryIndex.has(task.category_id)) {
      unprocessable.push({ pointer: `${at}/category_id`, detail: 'is not a category of this document' })
    }
    let parent: number | undefined
    if (task.parent_id !== null) {
      parent = taskIndex.get(task.parent_id)
      if (parent === undefined) unprocessable.push({ pointer: `${at}/parent_id`, detail: 'is not a task of this document' })
      else if (task.parent_id === task.id) unprocessable.push({ pointer: `${at}/parent_id`, detail: 'is the task itself' })
      else if (task.deleted_at === null && document.tasks[parent]?.deleted_at !== null) {
        unprocessable.push({ pointer: `${at}/parent_id`, detail: 'is in the trash, and this task is not' })
      }
    }
    parentOf.push(parent)

    for (const problem of dueProblems(task, knowsZone)) invalid.push({ ...problem, pointer: `${at}${problem.pointer ?? ''}` })
    const reminders = normalizeReminders(task.reminders)
    // As a new task's schedule, without completing it (a completed task stays as it is).
    const plan = planSchedule(undefined, { due_at: task.due_at, due_date: task.due_date, time_zone: task.time_zone, recurrence_rule: task.recurrence_rule, reminders }, task.time_zone ?? userZone)
    let start: { at: string } | { date: string } | null | undefined = null
    if (Array.isArray(plan)) for (const problem of plan) invalid.push({ ...problem, pointer: `${at}${problem.pointer ?? ''}` })
    else start = plan.start
    tasks.push({
      id: task.id,
      title: task.title,
      description: task.description,
      completed: task.completed,
      completed_at: task.completed_at,
      priority: task.priority,
      due_at: task.due_at,
      due_date: task.due_date,
      time_zone: task.time_zone,
      recurrence_rule: task.recurrence_rule,
      recurrence_start_at: start != null && 'at' in start ? start.at : null,
      recurrence_start_date: start != null && 'date' in start ? start.date : null,
      reminders,
      category_id: task.category_id,
      parent_id: task.parent_id,
      position: task.position,
      tags: normalizeTags(task.tags),
      created_at: task.created_at,
      updated_at: task.updated_at,
      version: task.version,
      deleted_at: task.deleted_at
    })
  })

  // Depth of every task (trash included: the writing order needs it), and cycles.
  const depth: Array<number | undefined> = new Array(document.tasks.length)
  const onPath = new Set<number>()
  for (let start = 0; start < document.tasks.length; start++) {
    if (depth[start] !== undefined) continue
    const path: number[] = []
    let node: number | undefined = start
    let base = 0
    while (node !== undefined && depth[node] === undefined && !onPath.has(node)) {
      onPath.add(node)
      path.push(node)
      node = parentOf[node]
    }
    if (node !== undefined && onPath.has(node)) {
      // A cycle: its tasks (and those under them on this path) are reported and left out.
      for (const member of path) {
        unprocessable.push({ pointer: `/tasks/${member}/parent_id`, detail: 'makes a cycle' })
        depth[member] = Number.POSITIVE_INFINITY
      }
    } else {
      base = node === undefined ? 0 : depth[node] as number
      for (let i = path.length - 1; i >= 0; i--) depth[path[i] as number] = ++base
    }
    for (const member of path) onPath.delete(member)
  }
  document.tasks.forEach((task, index) => {
    // A live task's ancestors are live (checked above), so its depth is its live depth.
    const level = depth[index] as number
    if (task.deleted_at === null && Number.isFinite(level) && level > MAX_DEPTH) {
      unprocessable.push({ pointer: `/tasks/${index}/parent_id`, detail: `puts this task on level ${level}; trees are at most ${MAX_DEPTH} levels deep` })
    }
  })

  // Live siblings never share a position (tasks_sibling_position_idx).
  const places = new Map<string, number>()
  document.tasks.forEach((task, index) => {
    if (task.deleted_at !== null) return
    const place = `${task.parent_id ?? ''}\u0000${task.position}`
    const holder = places.get(place)
    if (holder !== undefined) unprocessable.push({ pointer: `/tasks/${index}/position`, detail: `is the position of its sibling /tasks/${holder}` })
    else places.set(place, index)
  })

  document.completions.forEach((completion, index) => {
    if (!taskIndex.has(completion.task_id)) unprocessable.push({ pointer: `/completions/${index}/task_id`, detail: 'is not a task of this document' })
  })

  const levels: number[][] = []
  depth.forEach((level, index) => {
    if (level === undefined || !Number.isFinite(level)) return
    ;(levels[level - 1] ??= []).push(index)
  })
  return { invalid, unprocessable, levels: levels.filter((level) => level !== undefined), tasks }
}
