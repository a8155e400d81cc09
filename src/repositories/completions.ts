/**
 * Completions of recurring tasks (API.md "Recurrence"). Every statement is scoped by the
 * owner's id (second argument, always).
 */
import { type Kysely, sql } from 'kysely'
import type { Database, TaskCompletionRow } from '../database/types.js'
import type { Due } from '../domain/recurrence.js'

/** Records that `occurrence` of the task was completed now (the transaction's now()). */
export async function record (db: Kysely<Database>, userId: string, taskId: string, occurrence: Due): Promise<void> {
  await db.insertInto('task_completions').values({
    user_id: userId,
    task_id: taskId,
    occurrence_at: 'at' in occurrence ? occurrence.at : null,
    occurrence_date: 'date' in occurrence ? occurrence.date : null,
    completed_at: sql<string>`now()`
  }).execute()
}

export interface CompletionPage {
  rows: TaskCompletionRow[]
  next: { key: string, id: string } | undefined
}

/** One page of a task's completions, newest completed_at first, then id descending: one index range scan. */
export async function list (db: Kysely<Database>, userId: string, taskId: string, query: { limit: number, after?: { key: string, id: string } | undefined }): Promise<CompletionPage> {
  let select = db.selectFrom('task_completions').selectAll()
    .where('user_id', '=', userId).where('task_id', '=', taskId)
  if (query.after !== undefined) {
    select = select.where(sql<boolean>`(completed_at, id) < (${query.after.key}::timestamptz, ${query.after.id}::uuid)`)
  }
  const rows = await select.orderBy('completed_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute()
  const more = rows.length > query.limit
  const kept = more ? rows.slice(0, query.limit) : rows
  const last = kept[kept.length - 1]
  return { rows: kept, next: more && last !== undefined ? { key: last.completed_at, id: last.id } : undefined }
}
