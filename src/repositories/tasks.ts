/**
 * Tasks. Every statement is scoped by the owner's id (second argument, always). Writes check
 * `If-Match` inside the UPDATE/DELETE itself, so concurrent writers cannot both pass; a miss
 * is a returned value: the task is missing, the version is stale, or the category is not
 * the user's (the composite foreign key (user_id, category_id) refuses it).
 * A task in the trash (`deleted_at` set) is missing to everything here but the trash's own
 * functions (listTrash, restore, purge).
 */
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'
import { type Compilable, type Expression, type ExpressionBuilder, type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely'
import { isCheckViolation, isForeignKeyViolation, isUniqueViolation } from '../database/sql-errors.js'
import { atomically } from '../database/transactions.js'
import type { ValidatedOperations } from '../contract/index.js'
import { shapedQueries, staticQuery } from '../database/static-query.js'
import type { Database, Reminder, TaskRow, TaskWriteRow } from '../database/types.js'
import type { Due } from '../domain/recurrence.js'
import type { TaskChanges } from '../domain/tasks.js'
import { lockChangeCounter } from './events.js'

export type Miss =
  | { miss: 'missing' }
  | { miss: 'stale', version: number }
  | { miss: 'unknown-category' }
  /** A client-chosen id the user already has a task under. */
  | { miss: 'id-taken' }
  /** The parent is not a live task of the user, or would make a cycle or a fifth level. */
  | { miss: 'bad-parent', reason: 'missing' | 'cycle' | 'depth' }
  /** moveTask's `after_id` is not a sibling under the new parent, or is the task itself. */
  | { miss: 'bad-after' }

export const isMiss = (value: unknown): value is Miss => typeof value === 'object' && value !== null && 'miss' in value

const CATEGORY_KEY = 'tasks_category_fkey'
/** (user_id, id): the same id for two users is two tasks. */
const PRIMARY_KEY = 'tasks_pkey'
/** (user_id, parent_id) → tasks (user_id, id): a parent is always the user's own. */
const PARENT_KEY = 'tasks_parent_fkey'
/** The API's bound on a position (TaskPosition); siblings are renumbered before a key passes it. */
export const POSITION_MAX_BYTES = 64

/** The tree's rules as the database refuses them (check_task_tree, and the foreign key). */
function treeMiss (error: unknown): Miss | undefined {
  if (isForeignKeyViolation(error, PARENT_KEY) || isCheckViolation(error, 'tasks_parent_alive')) return { miss: 'bad-parent', reason: 'missing' }
  if (isCheckViolation(error, 'tasks_parent_cycle') || isCheckViolation(error, 'tasks_parent_not_self')) return { miss: 'bad-parent', reason: 'cycle' }
  if (isCheckViolation(error, 'tasks_parent_depth')) return { miss: 'bad-parent', reason: 'depth' }
  return undefined
}

/** Every column but the generated search vector. */
export const COLUMNS = ['user_id', 'id', 'title', 'description', 'completed', 'completed_at', 'priority', 'due_at', 'due_date', 'time_zone', 'recurrence_rule', 'reminders', 'category_id', 'parent_id', 'position', 'tags', 'created_at', 'updated_at', 'version', 'deleted_at'] as const

/**
 * A new task's full state; `id` given by the client, or made by PostgreSQL when absent;
 * a recurring one with its rule's start (task-schedule.ts).
 */
export type NewTask = Required<Omit<TaskChanges, 'completed' | 'recurrence_rule' | 'reminders' | 'position'>> & {
  completed: boolean
  id?: string | undefined
  recurrence_rule?: string | null
  reminders?: Reminder[]
  recurrence_start?: Due | null
}

/** The two columns of a rule's start. */
const startColumns = (start: Due | null): { recurrence_start_at: string | null, recurrence_start_date: string | null } => ({
  recurrence_start_at: start !== null && 'at' in start ? start.at : null,
  recurrence_start_date: start !== null && 'date' in start ? start.date : null
})

/** Inserts the task, last among its siblings (the database picks the position: fill_task_position). */
export async function insert (db: Kysely<Database>, userId: string, task: NewTask): Promise<TaskRow | Miss> {
  const { recurrence_start: start, reminders = [], ...state } = task
  try {
    return await db.insertInto('tasks')
      .values({ user_id: userId, ...state, reminders: JSON.stringify(reminders), ...startColumns(start ?? null), completed_at: task.completed ? sql<Date>`now()` : null })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow()
  } catch (error) {
    if (isForeignKeyViolation(error, CATEGORY_KEY)) return { miss: 'unknown-category' }
    if (isUniqueViolation(error, PRIMARY_KEY)) return { miss: 'id-taken' }
    const tree = treeMiss(error)
    if (tree !== undefined) return tree
    throw error
  }
}

/** The position after the last live sibling under `parentId` (null: top level): one index probe. */
export async function positionLast (db: Kysely<Database>, userId: string, parentId: string | null): Promise<string> {
  const last = await siblings(db, userId, parentId).select('position').orderBy('position', 'desc').limit(1).executeTakeFirst()
  return generateKeyBetween(last?.position ?? null, null)
}

/** The live tasks under `parentId` (null: top level), an index range of tasks_sibling_position_idx. */
function siblings (db: Kysely<Database>, userId: string, parentId: string | null) {
  return db.selectFrom('tasks').where('user_id', '=', userId).where('deleted_at', 'is', null)
    .where('parent_id', parentId === null ? 'is' : '=', parentId)
}

/** The task and its rule's start, locked until the transaction ends (a write decides from it). */
export async function findForWrite (db: Kysely<Database>, userId: string, taskId: string): Promise<TaskWriteRow | undefined> {
  return await db.selectFrom('tasks').select([...COLUMNS, 'recurrence_start_at', 'recurrence_start_date'])
    .where('user_id', '=', userId).where('id', '=', taskId).where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst()
}

// The single-task read: the service's most frequent statement, built once (static-query.ts).
const selectById = staticQuery((db: Kysely<Database>, userId: string, taskId: string) => db.selectFrom('tasks').select(COLUMNS)
  .where('user_id', '=', userId).where('id', '=', taskId).where('deleted_at', 'is', null))

export async function findById (db: Kysely<Database>, userId: string, taskId: string): Promise<TaskRow | undefined> {
  return (await selectById(db, userId, taskId))[0]
}

/** `*` matches any existing task; a list matches these versions; undefined: no condition. */
export type VersionCondition = '*' | number[] | undefined

function versionFilter (eb: ExpressionBuilder<Database, 'tasks'>, ifVersion: VersionCondition): Expression<SqlBool> {
  if (ifVersion === undefined || ifVersion === '*') return sql<boolean>`true`
  if (ifVersion.length === 0) return sql<boolean>`false`
  // One parameter however many tags If-Match lists: one prepared statement, not one per length.
  return sql<boolean>`version = ANY(${ifVersion}::int[])`
}

/** Why a write that matched no row missed: no such task (or it is in the trash), or another version. */
async function explainMiss (db: Kysely<Database>, userId: string, taskId: string): Promise<Miss> {
  const row = await db.selectFrom('tasks').select('version')
    .where('user_id', '=', userId).where('id', '=', taskId).where('deleted_at', 'is', null)
    .executeTakeFirst()
  return row === undefined ? { miss: 'missing' } : { miss: 'stale', version: row.version }
}

/**
 * Applies the changes in one UPDATE. `version` and `updated_at` move only when a stored value
 * really changes (API.md: a request that changes nothing leaves the version).
 */
export async function update (db: Kysely<Database>, userId: string, taskId: string, changes: TaskChanges, ifVersion?: VersionCondition, start?: Due | null): Promise<TaskRow | Miss>
/**
 * `onlyIf: 'not-recurring'`: the same UPDATE, for a task without a rule and without incomplete
 * subtasks only; undefined when it matched nothing (no such task, another version, a
 * recurring task or one with incomplete subtasks: the caller decides).
 */
export async function update (db: Kysely<Database>, userId: string, taskId: string, changes: TaskChanges, ifVersion: VersionCondition, start: undefined, onlyIf: 'not-recurring'): Promise<TaskRow | Miss | undefined>
export async function update (db: Kysely<Database>, userId: string, taskId: string, changes: TaskChanges, ifVersion?: VersionCondition, start?: Due | null, onlyIf?: 'not-recurring'): Promise<TaskRow | Miss | undefined> {
  try {
    const row = await db.updateTable('tasks')
      .set((eb) => {
        const completed: Expression<boolean> | undefined = changes.completed === 'toggle'
          ? sql<boolean>`NOT completed`
          : changes.completed === undefined ? undefined : sql<boolean>`${changes.completed}::boolean`
        const assigned: Array<[string, Expression<unknown> | RawBuilder<unknown>]> = []
        const set = (column: string, value: Expression<unknown> | RawBuilder<unknown>): void => { assigned.push([column, value]) }
        if (changes.title !== undefined) set('title', sql`${changes.title}::text`)
        if (changes.description !== undefined) set('description', sql`${changes.description}::text`)
        if (changes.priority !== undefined) set('priority', sql`${changes.priority}::task_priority`)
        if (changes.due_at !== undefined) set('due_at', sql`${changes.due_at}::timestamptz`)
        if (changes.due_date !== undefined) set('due_date', sql`${changes.due_date}::date`)
        if (changes.time_zone !== undefined) set('time_zone', sql`${changes.time_zone}::text`)
        if (changes.recurrence_rule !== undefined) set('recurrence_rule', sql`${changes.recurrence_rule}::text`)
        if (changes.reminders !== undefined) set('reminders', sql`${JSON.stringify(changes.reminders)}::jsonb`)
        if (changes.category_id !== undefined) set('category_id', sql`${changes.category_id}::uuid`)
        if (changes.parent_id !== undefined) set('parent_id', sql`${changes.parent_id}::uuid`)
        if (changes.position !== undefined) set('position', sql`${changes.position}::text`)
        if (changes.tags !== undefined) set('tags', sql`${changes.tags}::text[]`)
        if (completed !== undefined) set('completed', completed)
        // Any assigned value that differs from the stored one counts as a change.
        const changed = assigned.length === 0
          ? sql<boolean>`false`
          : sql<boolean>`(${sql.join(assigned.map(([column, value]) => sql`${sql.ref(column)} IS DISTINCT FROM ${value}`), sql` OR `)})`
        const values: Record<string, unknown> = Object.fromEntries(assigned)
        // The rule's start moves only with the rule or the due, which count as the change.
        if (start !== undefined) {
          const columns = startColumns(start)
          values.recurrence_start_at = sql`${columns.recurrence_start_at}::timestamptz`
          values.recurrence_start_date = sql`${columns.recurrence_start_date}::date`
        }
        if (completed !== undefined) {
          // Kept from the first completion while the task stays completed; cleared on reopening.
          values.completed_at = sql`CASE WHEN ${completed} THEN coalesce(completed_at, now()) ELSE NULL END`
        }
        values.version = sql`CASE WHEN ${changed} THEN version + 1 ELSE version END`
        values.updated_at = sql`CASE WHEN ${changed} THEN now() ELSE updated_at END`
        return values
      })
      .where('user_id', '=', userId).where('id', '=', taskId).where('deleted_at', 'is', null)
      .where((eb) => versionFilter(eb, ifVersion))
      .$if(onlyIf === 'not-recurring', (query) => query.where('recurrence_rule', 'is', null)
        // Completing a task completes its subtasks: one with incomplete ones takes the caller's other path.
        .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM tasks c WHERE c.user_id = ${userId} AND c.parent_id = ${taskId}::uuid AND c.deleted_at IS NULL AND NOT c.completed)`))
      .returning(COLUMNS)
      .executeTakeFirst()
    if (row === undefined && onlyIf !== undefined) return undefined
    return row ?? await explainMiss(db, userId, taskId)
  } catch (error) {
    if (isForeignKeyViolation(error, CATEGORY_KEY)) return { miss: 'unknown-category' }
    const tree = treeMiss(error)
    if (tree !== undefined) return tree
    throw error
  }
}

/**
 * The task and its live descendants (`deleted_at IS NULL`), or, for `trashedWith`, the
 * descendants trashed in the same deletion as the task: ids, with each one's depth below it.
 */
function subtree (userId: string, rootCondition: RawBuilder<SqlBool>, trashed: boolean): RawBuilder<unknown> {
  const alive = trashed ? sql`c.deleted_at = s.deleted_at` : sql`c.deleted_at IS NULL`
  return sql`
    subtree(id, deleted_at, depth) AS (
      SELECT t.id, t.deleted_at, 0 FROM tasks t WHERE t.user_id = ${userId} AND ${rootCondition}
      UNION
      SELECT c.id, c.deleted_at, s.depth + 1 FROM tasks c JOIN subtree s ON c.user_id = ${userId} AND c.parent_id = s.id
      WHERE ${alive} AND s.depth < 4
    )`
}

/**
 * Moves the task and its descendants to the trash, all with one `deleted_at` (the
 * transaction's now()): each a change (version +1, new updated_at). If-Match is the task's.
 */
export async function trash (db: Kysely<Database>, userId: string, taskId: string, ifVersion?: VersionCondition): Promise<true | Miss> {
  const version = ifVersion === undefined || ifVersion === '*' ? sql`true` : sql`t.version = ANY(${ifVersion}::int[])`
  const { rows } = await sql<{ id: string }>`
    WITH RECURSIVE ${subtree(userId, sql<SqlBool>`t.id = ${taskId} AND t.deleted_at IS NULL AND ${version}`, false)}
    UPDATE tasks t SET deleted_at = now(), version = t.version + 1, updated_at = now()
    FROM subtree s WHERE t.user_id = ${userId} AND t.id = s.id
    RETURNING t.id
  `.execute(db)
  return rows.length === 0 ? await explainMiss(db, userId, taskId) : true
}

/**
 * Brings a task in the trash back with the descendants trashed in the same deletion (each a
 * change: version +1, new updated_at); undefined when it is not in the trash. It goes back
 * under its parent when that is alive and the subtree fits within 4 levels there, else to
 * the top level; it keeps its position unless a live sibling holds it, else goes last.
 * Decided under the user's change counter, so no concurrent write moves the ground.
 */
export async function restore (db: Kysely<Database>, userId: string, taskId: string): Promise<TaskRow | undefined> {
  return await atomically(db, async (trx) => {
    await lockChangeCounter(trx, userId)
    const { rows: members } = await sql<{ id: string, depth: number }>`
      WITH RECURSIVE ${subtree(userId, sql<SqlBool>`t.id = ${taskId} AND t.deleted_at IS NOT NULL`, true)}
      SELECT id, depth FROM subtree
    `.execute(trx)
    if (members.length === 0) return undefined
    const root = await trx.selectFrom('tasks').select(['parent_id', 'position']).where('user_id', '=', userId).where('id', '=', taskId).executeTakeFirstOrThrow()
    const height = Math.max(...members.map((member) => member.depth))
    let parentId = root.parent_id
    if (parentId !== null && (await levelOf(trx, userId, parentId) ?? Infinity) + 1 + height > 4) parentId = null
    const taken = await siblings(trx, userId, parentId).select('id').where('position', '=', root.position).executeTakeFirst()
    const position = taken === undefined ? root.position : await positionLast(trx, userId, parentId)
    const { rows } = await sql<TaskRow>`
      UPDATE tasks SET deleted_at = NULL, version = version + 1, updated_at = now(),
        parent_id = CASE WHEN id = ${taskId} THEN ${parentId}::uuid ELSE parent_id END,
        position = CASE WHEN id = ${taskId} THEN ${position}::text ELSE position END
      WHERE user_id = ${userId} AND id = ANY(${members.map((member) => member.id)}::uuid[])
      RETURNING ${sql.join(COLUMNS.map((column) => sql.ref(column)))}
    `.execute(trx)
    return rows.find((row) => row.id === taskId)
  })
}

/** The level of a live task (1: top level), or undefined when it is not a live task of the user. */
async function levelOf (db: Kysely<Database>, userId: string, taskId: string): Promise<number | undefined> {
  const { rows } = await sql<{ level: number }>`
    WITH RECURSIVE up(id, parent_id, level) AS (
      SELECT id, parent_id, 1 FROM tasks WHERE user_id = ${userId} AND id = ${taskId} AND deleted_at IS NULL
      UNION ALL
      SELECT t.id, t.parent_id, u.level + 1 FROM tasks t JOIN up u ON t.user_id = ${userId} AND t.id = u.parent_id WHERE u.level < 8
    )
    SELECT max(level) AS level FROM up
  `.execute(db)
  return rows[0]?.level ?? undefined
}

/** Deletes a task in the trash for good, with the descendants trashed in the same deletion; false when it is not in the trash. */
export async function purge (db: Kysely<Database>, userId: string, taskId: string): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    WITH RECURSIVE ${subtree(userId, sql<SqlBool>`t.id = ${taskId} AND t.deleted_at IS NOT NULL`, true)}
    DELETE FROM tasks t USING subtree s WHERE t.user_id = ${userId} AND t.id = s.id
    RETURNING t.id
  `.execute(db)
  return rows.length > 0
}

/**
 * Moves every completed task not in the trash (of one category, when given) to the trash
 * with its descendants, in one statement, so all share one `deleted_at` (the transaction's
 * now()); returns how many tasks moved.
 */
export async function trashCompleted (db: Kysely<Database>, userId: string, categoryId?: string): Promise<number> {
  const category = categoryId === undefined ? sql`true` : sql`t.category_id = ${categoryId}::uuid`
  const { rows } = await sql<{ id: string }>`
    WITH RECURSIVE ${subtree(userId, sql<SqlBool>`t.completed AND t.deleted_at IS NULL AND ${category}`, false)}
    UPDATE tasks t SET deleted_at = now(), version = t.version + 1, updated_at = now()
    FROM (SELECT DISTINCT id FROM subtree) s WHERE t.user_id = ${userId} AND t.id = s.id
    RETURNING t.id
  `.execute(db)
  return rows.length
}

/** The live, incomplete descendants of a task, parents before children, with what completing them needs. */
export async function incompleteDescendants (db: Kysely<Database>, userId: string, taskId: string): Promise<TaskWriteRow[]> {
  const { rows } = await sql<TaskWriteRow>`
    WITH RECURSIVE ${subtree(userId, sql<SqlBool>`t.id = ${taskId} AND t.deleted_at IS NULL`, false)}
    SELECT ${sql.join([...COLUMNS, 'recurrence_start_at', 'recurrence_start_date'].map((column) => sql.ref(`t.${column}`)))}
    FROM tasks t JOIN subtree s ON t.user_id = ${userId} AND t.id = s.id
    WHERE s.depth > 0 AND NOT t.completed
    ORDER BY s.depth, t.id
  `.execute(db)
  return rows
}

/**
 * Completes these tasks (none of them recurring) in one statement: each a change of its own
 * (version +1, its own event). Tasks completed meanwhile are left as they are.
 */
export async function completeAll (db: Kysely<Database>, userId: string, taskIds: string[]): Promise<void> {
  if (taskIds.length === 0) return
  await db.updateTable('tasks')
    .set((eb) => ({ completed: true, completed_at: sql`coalesce(completed_at, now())`, version: eb('version', '+', 1), updated_at: sql<string>`now()` }))
    .where('user_id', '=', userId).where('id', 'in', taskIds).where('completed', '=', false).where('deleted_at', 'is', null)
    .execute()
}

export interface MoveTarget {
  parentId: string | null
  afterId: string | null
}

/**
 * moveTask: the position right after `afterId` (null: first) among the live tasks under
 * `parentId`, the task itself left out; a miss when `afterId` is not one of them. Siblings
 * are renumbered first (renumber) when the key would pass POSITION_MAX_BYTES. Call it
 * holding the user's change counter, so no concurrent move takes the same place.
 */
export async function positionFor (db: Kysely<Database>, userId: string, taskId: string, target: MoveTarget): Promise<string | Miss> {
  if (target.afterId === taskId) return { miss: 'bad-after' }
  let after: string | null = null
  if (target.afterId !== null) {
    const row = await siblings(db, userId, target.parentId).select('position').where('id', '=', target.afterId).executeTakeFirst()
    if (row === undefined) return { miss: 'bad-after' }
    after = row.position
  }
  const bound = after
  const next = await siblings(db, userId, target.parentId).select(['id', 'position'])
    .where('id', '!=', taskId)
    .$if(bound !== null, (query) => query.where('position', '>', bound as string))
    .orderBy('position').limit(1).executeTakeFirst()
  const key = generateKeyBetween(after, next?.position ?? null)
  if (key.length <= POSITION_MAX_BYTES) return key
  return await renumber(db, userId, taskId, target.parentId, target.afterId)
}

/**
 * Gives the live tasks under `parentId` short keys again, in their order, with the moving
 * task's place kept free right after `afterId`, and returns that place's key. Each renumbered
 * sibling is a change (version +1, `task.moved`). The keys are first parked on values no key
 * takes ('~' and the id: the unique index is checked row by row), without a version, so no
 * event carries them.
 */
async function renumber (db: Kysely<Database>, userId: string, taskId: string, parentId: string | null, afterId: string | null): Promise<string> {
  const rows = await siblings(db, userId, parentId).select('id').where('id', '!=', taskId).orderBy('position').execute()
  const order: Array<string | null> = rows.map((row) => row.id)
  order.splice(afterId === null ? 0 : order.indexOf(afterId) + 1, 0, null)
  const keys = generateNKeysBetween(null, null, order.length)
  const ids = rows.map((row) => row.id)
  await sql`UPDATE tasks SET position = '~' || id::text WHERE user_id = ${userId} AND id = ANY(${[...ids, taskId]}::uuid[])`.execute(db)
  const assigned = order.flatMap((id, index) => id === null ? [] : [{ id, key: keys[index] as string }])
  await sql`
    UPDATE tasks t SET position = v.key, version = t.version + 1, updated_at = now()
    FROM unnest(${assigned.map((entry) => entry.id)}::uuid[], ${assigned.map((entry) => entry.key)}::text[]) AS v(id, key)
    WHERE t.user_id = ${userId} AND t.id = v.id
  `.execute(db)
  return keys[order.indexOf(null)] as string
}

/** One page of the user's trash, newest deleted_at first, then id descending: one index range scan. */
export async function listTrash (db: Kysely<Database>, userId: string, query: { limit: number, after?: { key: string, id: string } | undefined }): Promise<TaskPageRows> {
  let select = db.selectFrom('tasks')
    .select(COLUMNS)
    .select(sql<string>`deleted_at::text`.as('sort_key'))
    .where('user_id', '=', userId).where('deleted_at', 'is not', null)
  if (query.after !== undefined) {
    select = select.where(sql<boolean>`(deleted_at, id) < (${query.after.key}::timestamptz, ${query.after.id}::uuid)`)
  }
  const rows = await select.orderBy('deleted_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute()
  return page(rows, query.limit)
}

/**
 * Purges, for every user, up to `batch` tasks trashed longer than `retentionDays` ago
 * (migration 202611281000_trash: a function that may see every user's trash, the one
 * statement here not scoped by a user); returns how many, or 'busy' while another purge runs.
 */
export async function purgeExpired (db: Kysely<Database>, retentionDays: number, batch: number): Promise<number | 'busy'> {
  const { rows } = await sql<{ purged: number }>`
    SELECT purge_expired_trash(${retentionDays} * interval '1 day', ${batch}::integer) AS purged
  `.execute(db)
  const purged = rows[0]?.purged ?? 0
  return purged < 0 ? 'busy' : purged
}

/** A task as sync sends it: with the number of its latest change. */
export type ChangedTaskRow = TaskRow & { change_seq: string }

/**
 * The first `limit` of the user's tasks (trash included) whose latest change is numbered
 * after `after`, in change order: one range scan of (user_id, change_seq).
 */
export async function changedSince (db: Kysely<Database>, userId: string, after: string, limit: number): Promise<ChangedTaskRow[]> {
  return await db.selectFrom('tasks').select([...COLUMNS, 'change_seq'])
    .where('user_id', '=', userId).where('change_seq', '>', after)
    .orderBy('change_seq')
    .limit(limit)
    .execute()
}

type ListTasksQuery = NonNullable<ValidatedOperations['listTasks']['parameters']['query']>
export type TaskSort = NonNullable<ListTasksQuery['sort']>
export type SortOrder = NonNullable<ListTasksQuery['order']>

/**
 * listTasks' query as the contract names it, defaults applied (status, sort, order, limit),
 * the cursor already decoded into `after`.
 */
export type TaskListQuery = Omit<ListTasksQuery, 'cursor'> & Required<Pick<ListTasksQuery, 'status' | 'sort' | 'order' | 'limit'>> & {
  /** Rows strictly after this position in the listing's order. */
  after?: { key: string, id: string } | undefined
}

/** priority_rank of each priority (db/migrations/202611240900_leakproof_sort_keys.ts). */
const PRIORITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3 }

/**
 * The sort key of each listing: the expression it orders and pages by (each matches an
 * index (user_id, <expression>, id), and is leakproof, so that under row-level security the
 * keyset condition still bounds the index scan), the key as the cursor carries it, and how
 * a cursor's key becomes the comparison's parameter.
 */
function sortKey (sort: TaskSort, order: SortOrder): { expression: RawBuilder<unknown>, printed: RawBuilder<unknown>, bound: (value: unknown) => RawBuilder<unknown>, value: (key: string) => unknown } {
  const same = (expression: RawBuilder<unknown>, cast: RawBuilder<unknown>): ReturnType<typeof sortKey> =>
    ({ expression, printed: expression, bound: (value) => sql`${value}::${cast}`, value: (key) => key })
  switch (sort) {
    case 'created_at': return same(sql`created_at`, sql`timestamptz`)
    case 'updated_at': return same(sql`updated_at`, sql`timestamptz`)
    // The effective due instant; tasks without a due last in either order (API.md).
    case 'due_at': return same(order === 'asc'
      ? sql`(CASE WHEN due_effective IS NULL THEN 'infinity'::timestamptz ELSE due_effective END)`
      : sql`(CASE WHEN due_effective IS NULL THEN '-infinity'::timestamptz ELSE due_effective END)`, sql`timestamptz`)
    // Cursors carry the priority's name (as they did before priority_rank existed).
    case 'priority': return { expression: sql`priority_rank`, printed: sql`priority`, bound: (value) => sql`${value}::smallint`, value: (key) => PRIORITY_RANK[key] ?? 0 }
    // Case-insensitive, by code point (API.md).
    case 'title': return same(sql`title_sort`, sql`text COLLATE "C"`)
    // Bytewise: the column's collation is "C".
    case 'position': return same(sql`position`, sql`text COLLATE "C"`)
  }
}

export interface TaskPageRows {
  /** The rows, each also carrying its `sort_key` (not part of the API shape). */
  rows: TaskRow[]
  /** Position of the last row when more rows follow, else undefined. */
  next: { key: string, id: string } | undefined
}

/**
 * The values a listing binds; which of them are present, with the sort, order, status and due
 * view, is its shape (`listShape`): every listing of one shape is the same statement.
 */
type ListValues = {
  userId: string
  priority?: string | undefined
  categoryId?: string | undefined
  parentId?: string | undefined
  tag?: string | undefined
  q?: string | undefined
  dueAfter?: string | undefined
  dueBefore?: string | undefined
  afterKey?: unknown
  afterId?: string | undefined
  limit: number
}

function listValues (userId: string, query: TaskListQuery): ListValues {
  return {
    userId,
    priority: query.priority,
    categoryId: query.category_id,
    parentId: query.parent_id === 'none' ? undefined : query.parent_id,
    tag: query.tag?.trim().toLowerCase(),
    q: query.q,
    dueAfter: query.due_after,
    dueBefore: query.due_before,
    afterKey: query.after === undefined ? undefined : sortKey(query.sort, query.order).value(query.after.key),
    // Among one parent's children the position alone pages them (buildList): no id bound.
    afterId: query.sort === 'position' && query.parent_id !== undefined ? undefined : query.after?.id,
    // One more than the page: whether another page follows.
    limit: query.limit + 1
  }
}

function listShape (query: TaskListQuery, values: ListValues): string {
  const present = Object.entries(values).filter(([, value]) => value !== undefined).map(([name]) => name)
  return [query.sort, query.order, query.status, query.due ?? '', query.parent_id === 'none' ? 'top' : '', ...present].join(' ')
}

/** A listing's statement, built by Kysely from its shape; `v` holds its values (or their markers). */
function buildList (db: Kysely<Database>, query: TaskListQuery, v: ListValues): Compilable<TaskRow & { sort_key: string }> {
  const { expression, printed, bound } = sortKey(query.sort, query.order)
  const direction = query.order === 'asc' ? sql`ASC` : sql`DESC`
  // Word and tag search read the caller_tasks view, where the GIN indexes can serve them
  // under row-level security (its migration says why); the other listings read the table.
  // Typed as the table: the view has its columns, under the same name (the alias).
  const source = (v.q !== undefined || v.tag !== undefined ? 'caller_tasks as tasks' : 'tasks') as 'tasks'
  let select = db.selectFrom(source)
    .select(COLUMNS)
    .select(sql<string>`(${printed})::text`.as('sort_key'))
    .where('user_id', '=', v.userId).where('deleted_at', 'is', null)
  if (query.status === 'pending') select = select.where('completed', '=', false)
  if (query.status === 'completed') select = select.where('completed', '=', true)
  if (v.priority !== undefined) select = select.where('priority', '=', v.priority as TaskRow['priority'])
  if (v.categoryId !== undefined) select = select.where('category_id', '=', v.categoryId)
  if (query.parent_id === 'none') select = select.where('parent_id', 'is', null)
  if (v.parentId !== undefined) select = select.where('parent_id', '=', v.parentId)
  if (v.tag !== undefined) select = select.where(sql<boolean>`tags @> ARRAY[${v.tag}]::text[]`)
  // plainto_tsquery treats every character of q as text: words are ANDed, operators and
  // punctuation are never syntax. The 'simple' configuration lowercases without stemming.
  if (v.q !== undefined) select = select.where(sql<boolean>`search @@ plainto_tsquery('simple', ${v.q})`)
  if (v.dueAfter !== undefined) select = select.where('due_effective', '>=', v.dueAfter)
  if (v.dueBefore !== undefined) select = select.where('due_effective', '<', v.dueBefore)
  if (query.sort === 'due_at') {
    // The same bounds on the sort key, which the index holds: the scan starts and stops at
    // them instead of filtering the whole list (the plain conditions above keep tasks without
    // a due out, whose sort key is ±infinity).
    if (v.dueAfter !== undefined) select = select.where(sql<boolean>`${expression} >= ${v.dueAfter}::timestamptz`)
    if (v.dueBefore !== undefined) select = select.where(sql<boolean>`${expression} < ${v.dueBefore}::timestamptz`)
  }
  if (query.due !== undefined) select = select.where(dueView(query.due, v.userId))
  // Among one parent's children positions are unique (tasks_sibling_position_idx): the
  // position alone orders and pages them, along that index (the tie on id cannot happen).
  const siblingsOnly = query.sort === 'position' && query.parent_id !== undefined
  if (v.afterKey !== undefined) {
    const comparison = query.order === 'asc' ? sql`>` : sql`<`
    select = select.where(siblingsOnly
      ? sql<boolean>`${expression} ${comparison} ${bound(v.afterKey)}`
      : sql<boolean>`(${expression}, id) ${comparison} (${bound(v.afterKey)}, ${v.afterId}::uuid)`)
  }
  return select
    .orderBy(sql`${expression} ${direction}`)
    .$if(!siblingsOnly, (ordered) => ordered.orderBy(sql`id ${direction}`))
    .limit(v.limit)
}

const listings = shapedQueries<ListValues, TaskRow & { sort_key: string }>()

/** One page of the user's tasks: a single statement, an index range scan in the sort order. */
export async function list (db: Kysely<Database>, userId: string, query: TaskListQuery): Promise<TaskPageRows> {
  const values = listValues(userId, query)
  const rows = await listings(db, listShape(query, values), values, (db, markers) => buildList(db, query, markers))
  return page(rows, query.limit)
}

/**
 * listTasks' `due` views (API.md), judged at the statement's now() in the user's zone (UTC
 * when unset). A due_date is compared with today's date there, whatever the task's zone; a
 * due_at with the bounds of today there.
 */
function dueView (view: NonNullable<ListTasksQuery['due']>, userId: string): RawBuilder<SqlBool> {
  const zone = sql`coalesce((SELECT u.time_zone FROM users u WHERE u.id = ${userId}), 'UTC')`
  const today = sql`(now() AT TIME ZONE ${zone})::date`
  const startOf = (day: RawBuilder<unknown>): RawBuilder<unknown> => sql`(${day})::timestamp AT TIME ZONE ${zone}`
  switch (view) {
    case 'overdue': return sql<SqlBool>`(NOT completed AND CASE WHEN due_date IS NOT NULL THEN due_date < ${today} ELSE due_at < now() END)`
    case 'today': return sql<SqlBool>`(CASE WHEN due_date IS NOT NULL THEN due_date = ${today} ELSE due_at >= ${startOf(today)} AND due_at < ${startOf(sql`${today} + 1`)} END)`
    case 'upcoming': return sql<SqlBool>`(CASE WHEN due_date IS NOT NULL THEN due_date > ${today} ELSE due_at >= ${startOf(sql`${today} + 1`)} END)`
    case 'none': return sql<SqlBool>`(due_at IS NULL AND due_date IS NULL)`
  }
}

/**
 * After the user's zone changed, in the transaction that changed it: recomputes the effective due instant of up to `batch` of
 * their tasks that follow it (all-day, no zone of their own), after `afterId` in id order
 * (index tasks_user_following_zone_idx). Returns the last id looked at, or undefined when
 * none was left. Not a change of the task: its representation, version and events stay.
 */
export async function recomputeFollowingDue (db: Kysely<Database>, userId: string, batch: number, afterId?: string): Promise<string | undefined> {
  const { rows } = await sql<{ last: string | null }>`
    WITH zone AS (SELECT coalesce((SELECT time_zone FROM users WHERE id = ${userId}), 'UTC') AS name),
    next AS (
      SELECT id FROM tasks
      WHERE user_id = ${userId} AND due_date IS NOT NULL AND time_zone IS NULL
        AND (${afterId ?? null}::uuid IS NULL OR id > ${afterId ?? null}::uuid)
      ORDER BY id LIMIT ${batch}
    ), moved AS (
      UPDATE tasks t SET due_effective = t.due_date::timestamp AT TIME ZONE (SELECT name FROM zone)
      FROM next
      WHERE t.user_id = ${userId} AND t.id = next.id AND t.due_date IS NOT NULL AND t.time_zone IS NULL
        AND t.due_effective IS DISTINCT FROM t.due_date::timestamp AT TIME ZONE (SELECT name FROM zone)
    )
    SELECT max(id::text) AS last FROM next
  `.execute(db)
  return rows[0]?.last ?? undefined
}

/** The first `limit` of `limit + 1` rows, and the position after them when the extra row came. */
function page (rows: Array<TaskRow & { sort_key: string }>, limit: number): TaskPageRows {
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  const last = kept[kept.length - 1]
  return {
    rows: kept,
    next: more && last !== undefined ? { key: last.sort_key, id: last.id } : undefined
  }
}
