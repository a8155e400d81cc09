/**
 * A whole account (API.md part two, "Account"): read in keyset pages for the export, written
 * in bulk by the import, erased by the deletion. Every statement is scoped by the owner's id
 * (second argument, always).
 * Pages are read by primary key (user_id, id): one index range scan each, whatever the
 * account's size. Bulk writes send each batch as one JSON parameter expanded by
 * jsonb_to_recordset: one statement text (one prepared statement) whatever the batch's size,
 * and never more than PostgreSQL's 65,535 parameters. The tables' triggers do the rest, as
 * for any write: each row gets its change number and its `*.created` event, reminders are
 * armed, and the task tree's rules are checked.
 */
import { type Kysely, sql } from 'kysely'
import { atomically } from '../database/transactions.js'
import type { CategoryRow, Database, Reminder, TaskCompletionRow, TaskPriority, TaskRow, UserRow } from '../database/types.js'
import { lockChangeCounter } from './events.js'
import { COLUMNS as TASK_COLUMNS_AS_ANSWERED } from './tasks.js'

/** The user and the snapshot's time (the transaction's now()): what the export's header holds. */
export async function header (db: Kysely<Database>, userId: string): Promise<{ user: UserRow, now: string } | undefined> {
  const row = await db.selectFrom('users').selectAll()
    .select(sql<string>`now()`.as('snapshot_at'))
    .where('id', '=', userId)
    .executeTakeFirst()
  if (row === undefined) return undefined
  const { snapshot_at: now, ...user } = row
  return { user, now }
}

/** Up to `limit` of the user's categories after id `after`, by id. */
export async function categoriesAfter (db: Kysely<Database>, userId: string, after: string | undefined, limit: number): Promise<CategoryRow[]> {
  return await db.selectFrom('categories').selectAll()
    .where('user_id', '=', userId)
    .$if(after !== undefined, (query) => query.where('id', '>', after as string))
    .orderBy('id').limit(limit)
    .execute()
}

/** Up to `limit` of the user's tasks, the trash included, after id `after`, by id. */
export async function tasksAfter (db: Kysely<Database>, userId: string, after: string | undefined, limit: number): Promise<TaskRow[]> {
  return await db.selectFrom('tasks').select(TASK_COLUMNS_AS_ANSWERED)
    .where('user_id', '=', userId)
    .$if(after !== undefined, (query) => query.where('id', '>', after as string))
    .orderBy('id').limit(limit)
    .execute()
}

/** Up to `limit` of the user's recorded completions after id `after`, by id. */
export async function completionsAfter (db: Kysely<Database>, userId: string, after: string | undefined, limit: number): Promise<TaskCompletionRow[]> {
  return await db.selectFrom('task_completions').selectAll()
    .where('user_id', '=', userId)
    .$if(after !== undefined, (query) => query.where('id', '>', after as string))
    .orderBy('id').limit(limit)
    .execute()
}

/** Whether the user has a task (the trash included) or a category: an import needs neither. */
export async function hasTasksOrCategories (db: Kysely<Database>, userId: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`
    SELECT EXISTS (SELECT FROM tasks WHERE user_id = ${userId})
        OR EXISTS (SELECT FROM categories WHERE user_id = ${userId}) AS found
  `.execute(db)
  return rows[0]?.found === true
}

export async function countWebhooks (db: Kysely<Database>, userId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM webhooks WHERE user_id = ${userId}`.execute(db)
  return rows[0]?.n ?? 0
}

export interface ImportedCategory {
  id: string
  name: string
  color: string | null
  created_at: string
  updated_at: string
}

export async function insertCategories (db: Kysely<Database>, userId: string, rows: readonly ImportedCategory[]): Promise<void> {
  if (rows.length === 0) return
  await sql`
    INSERT INTO categories (user_id, id, name, color, created_at, updated_at)
    SELECT ${userId}, r.id, r.name, r.color, r.created_at, r.updated_at
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS r(id uuid, name text, color text, created_at timestamptz, updated_at timestamptz)
  `.execute(db)
}

export interface ImportedTask {
  id: string
  title: string
  description: string | null
  completed: boolean
  completed_at: string | null
  priority: TaskPriority
  due_at: string | null
  due_date: string | null
  time_zone: string | null
  recurrence_rule: string | null
  /** The rule's start (not in the representation): an instant or a date. */
  recurrence_start_at: string | null
  recurrence_start_date: string | null
  reminders: Reminder[]
  category_id: string | null
  parent_id: string | null
  position: string
  tags: string[]
  created_at: string
  updated_at: string
  version: number
  deleted_at: string | null
}

/**
 * Inserts tasks as they are (ids, timestamps, versions, positions). A task's parent must be
 * inserted already, by an earlier call: the tree's trigger checks it row by row.
 */
export async function insertTasks (db: Kysely<Database>, userId: string, rows: readonly ImportedTask[]): Promise<void> {
  if (rows.length === 0) return
  await sql`
    INSERT INTO tasks (user_id, id, title, description, completed, completed_at, priority, due_at, due_date, time_zone,
                       recurrence_rule, recurrence_start_at, recurrence_start_date, reminders, category_id, parent_id,
                       position, tags, created_at, updated_at, version, deleted_at)
    SELECT ${userId}, r.id, r.title, r.description, r.completed, r.completed_at, r.priority, r.due_at, r.due_date, r.time_zone,
           r.recurrence_rule, r.recurrence_start_at, r.recurrence_start_date, r.reminders, r.category_id, r.parent_id,
           r.position, r.tags, r.created_at, r.updated_at, r.version, r.deleted_at
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(
      id uuid, title text, description text, completed boolean, completed_at timestamptz, priority task_priority,
      due_at timestamptz, due_date date, time_zone text, recurrence_rule text, recurrence_start_at timestamptz,
      recurrence_start_date date, reminders jsonb, category_id uuid, parent_id uuid, position text, tags text[],
      created_at timestamptz, updated_at timestamptz, version integer, deleted_at timestamptz)
  `.execute(db)
}

export interface ImportedCompletion {
  task_id: string
  /** A date (all-day occurrence) or an instant. */
  occurrence_due: string
  completed_at: string
}

export async function insertCompletions (db: Kysely<Database>, userId: string, rows: readonly ImportedCompletion[]): Promise<void> {
  if (rows.length === 0) return
  await sql`
    INSERT INTO task_completions (user_id, task_id, occurrence_at, occurrence_date, completed_at)
    SELECT ${userId}, r.task_id,
           CASE WHEN length(r.occurrence_due) > 10 THEN r.occurrence_due::timestamptz END,
           CASE WHEN length(r.occurrence_due) = 10 THEN r.occurrence_due::date END,
           r.completed_at
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(task_id uuid, occurrence_due text, completed_at timestamptz)
  `.execute(db)
}

export interface ImportedWebhook {
  id: string
  url: string
  events: string[]
  description: string | null
  secret: string
}

/** Inserts the webhooks disabled (their ids chosen by the caller). */
export async function insertWebhooks (db: Kysely<Database>, userId: string, rows: readonly ImportedWebhook[]): Promise<void> {
  if (rows.length === 0) return
  await sql`
    INSERT INTO webhooks (user_id, id, url, events, description, secret, enabled)
    SELECT ${userId}, r.id, r.url, r.events, r.description, r.secret, false
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(id uuid, url text, events text[], description text, secret text)
  `.execute(db)
}

/**
 * Erases the user and everything of theirs, with the jobs queued for them, in one transaction
 * (delete_account, db/migrations/202611282200_account_deletion.ts); when it commits, every
 * process hears of it. Deleting a large account takes longer than one request's statements
 * may: this transaction's statement timeout is raised to `timeoutMs`.
 */
export async function erase (db: Kysely<Database>, userId: string, timeoutMs: number): Promise<void> {
  await atomically(db, async (trx) => {
    await sql`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx)
    await lockChangeCounter(trx, userId)
    await sql`SELECT delete_account(${userId})`.execute(trx)
  })
}
