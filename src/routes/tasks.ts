/** The task operations of the contract. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import { dereferencedContract, type Task } from '../contract/index.js'
import { etagFor, ifMatchVersions, ifNoneMatchHits } from '../domain/etag.js'
import { resourcePath } from '../domain/representations.js'
import { overlongOnceNormalized } from '../domain/tags.js'
import { dueProblems, fullState, patchChanges, type TaskChanges, toTask } from '../domain/tasks.js'
import { isTimeZone } from '../domain/time-zones.js'
import { planSchedule, type SchedulePlan, touchesSchedule } from '../domain/task-schedule.js'
import { atomically } from '../database/transactions.js'
import type { Database, TaskRow } from '../database/types.js'
import { ApiProblem, type FieldError } from '../errors.js'
import * as completions from '../repositories/completions.js'
import * as events from '../repositories/events.js'
import * as tasks from '../repositories/tasks.js'
import * as users from '../repositories/users.js'
import type { Handlers } from './types.js'

export const notFound = (): ApiProblem => new ApiProblem('not-found', 'No task with this id.')
const unknownCategory = (): ApiProblem => new ApiProblem('unprocessable', 'No category with this id.', {
  errors: [{ pointer: '/category_id', detail: 'is not one of your categories' }]
})

/** A write that missed: 404, 412 with the current ETag, 409 or 422. */
export function problemFor (miss: tasks.Miss): ApiProblem {
  switch (miss.miss) {
    case 'missing': return notFound()
    case 'stale': return new ApiProblem('precondition-failed', 'The task has changed since the given ETag.', { headers: { etag: etagFor(miss.version) } })
    case 'unknown-category': return unknownCategory()
    case 'id-taken': return new ApiProblem('conflict', 'A task with this id exists already.', {
      errors: [{ pointer: '/id', detail: 'is already one of your tasks' }]
    })
    case 'bad-parent': return new ApiProblem('unprocessable', PARENT_PROBLEMS[miss.reason], {
      errors: [{ pointer: '/parent_id', detail: PARENT_PROBLEMS[miss.reason] }]
    })
    case 'bad-after': return new ApiProblem('unprocessable', 'after_id must be another task under the new parent.', {
      errors: [{ pointer: '/after_id', detail: 'is not a sibling of the task under this parent' }]
    })
  }
}

const PARENT_PROBLEMS = {
  missing: 'is not one of your tasks outside the trash',
  cycle: 'is the task itself or one of its subtasks',
  depth: 'would put a task more than 4 levels deep'
} as const

/** The contract's bound on one tag (TaskTags), which must hold for the tag as stored too. */
const TAG_MAX_LENGTH = (dereferencedContract().components.schemas?.TaskTags as { items: { maxLength: number } }).items.maxLength

/** Refuses tags that lowercasing would make longer than the contract allows (nothing is truncated). */
function refuseOverlongTags (tags: readonly string[] | undefined): void {
  const overlong = overlongOnceNormalized(tags ?? [], TAG_MAX_LENGTH)
  if (overlong.length === 0) return
  throw new ApiProblem('validation-failed', `Tags are stored lowercase and may then hold at most ${TAG_MAX_LENGTH} characters.`, {
    errors: overlong.map((index) => ({ pointer: `/tags/${index}`, detail: `is longer than ${TAG_MAX_LENGTH} characters once lowercased` }))
  })
}

/** Refuses both kinds of due set to values, and zones the service does not know (400). */
function refuseBadDue (body: Parameters<typeof dueProblems>[0]): void {
  const errors = dueProblems(body, isTimeZone)
  if (errors.length > 0) throw new ApiProblem('validation-failed', 'The due or the time zone cannot be used.', { errors })
}

export function sendTask (reply: FastifyReply, task: Task): Task {
  reply.header('etag', etagFor(task.version))
  return task
}

/** The changed task, or its miss as a problem. */
function sendChanged (reply: FastifyReply, row: TaskRow | tasks.Miss): Task {
  if (tasks.isMiss(row)) throw problemFor(row)
  return sendTask(reply, toTask(row))
}

/** The plan, or the rule's problem as a 400. */
function planOrRefuse (plan: SchedulePlan | FieldError[]): SchedulePlan {
  if (Array.isArray(plan)) throw new ApiProblem('validation-failed', 'The recurrence rule cannot be used with this task.', { errors: plan })
  return plan
}

/** The user's zone, read only when a recurring task without a zone of its own must advance. */
async function zoneFor (db: Kysely<Database>, userId: string, state: { recurrence_rule?: string | null, time_zone?: string | null }): Promise<string | null> {
  if (state.recurrence_rule == null || state.time_zone != null) return null
  return (await users.findById(db, userId))?.time_zone ?? null
}

/**
 * What PUT, PATCH and the completion toggle share: one conditional UPDATE, its miss as a
 * problem. A write that touches the schedule (rule, due, completion) first reads the task,
 * locked, in the same transaction: whether the rule stands with the due it leaves, and
 * whether completing it advances it, depend on what is stored (task-schedule.ts).
 */
async function changeTask (
  request: FastifyRequest<{ Params: { task_id: string }, Headers: { 'if-match'?: string } }>,
  reply: FastifyReply,
  changes: TaskChanges
): Promise<Task> {
  const userId = request.user.id
  const taskId = request.params.task_id
  const ifVersion = ifMatchVersions(request.headers['if-match'])
  const reparents = changes.parent_id !== undefined
  const touches = touchesSchedule(changes)
  if (touches === 'never' && !reparents) return sendChanged(reply, await tasks.update(request.db, userId, taskId, changes, ifVersion))
  // A completion is one UPDATE for a task without a rule (most of them); only a recurring
  // task (or none, or another version: the locked read tells which) takes the read below.
  if (touches === 'if-recurring' && !reparents) {
    const plain = await tasks.update(request.db, userId, taskId, changes, ifVersion, undefined, 'not-recurring')
    if (plain !== undefined) return sendChanged(reply, plain)
  }
  const row = await atomically(request.db, async (trx): Promise<TaskRow | tasks.Miss> => {
    // The user's change counter before the task's row, as every write takes them (the
    // change record's lock order): the other way round, two writers deadlock.
    await events.lockChangeCounter(trx, userId)
    const stored = await tasks.findForWrite(trx, userId, taskId)
    if (stored === undefined) return { miss: 'missing' }
    const rule = changes.recurrence_rule !== undefined ? changes.recurrence_rule : stored.recurrence_rule
    const zone = changes.time_zone !== undefined ? changes.time_zone : stored.time_zone
    const plan = planOrRefuse(planSchedule(stored, changes, await zoneFor(trx, userId, { recurrence_rule: rule, time_zone: zone })))
    // A new parent puts the task last among its new siblings (only moveTask chooses a place).
    const moved = changes.parent_id !== undefined && changes.parent_id !== stored.parent_id
      ? { position: await tasks.positionLast(trx, userId, changes.parent_id) }
      : {}
    const updated = await tasks.update(trx, userId, taskId, { ...plan.changes, ...moved }, ifVersion, plan.start)
    if (tasks.isMiss(updated)) return updated
    if (plan.completed !== undefined) await completions.record(trx, userId, taskId, plan.completed)
    if (!stored.completed && (updated.completed || plan.completed !== undefined)) await completeDescendants(trx, userId, taskId)
    return updated
  })
  return sendChanged(reply, row)
}

/**
 * Completing a task completes its incomplete subtasks, in the same transaction, each as the
 * toggle would: the ones without a rule in one statement, a recurring one advanced to its
 * next occurrence (its completion recorded). Each is its own change and event.
 */
async function completeDescendants (trx: Kysely<Database>, userId: string, taskId: string): Promise<void> {
  const descendants = await tasks.incompleteDescendants(trx, userId, taskId)
  await tasks.completeAll(trx, userId, descendants.filter((task) => task.recurrence_rule === null).map((task) => task.id))
  for (const task of descendants.filter((task) => task.recurrence_rule !== null)) {
    const plan = planSchedule(task, { completed: true }, await zoneFor(trx, userId, task))
    // A stored rule always stands with its stored due; should one not, the task is left open.
    if (Array.isArray(plan)) continue
    const updated = await tasks.update(trx, userId, task.id, plan.changes, undefined, plan.start)
    if (!tasks.isMiss(updated) && plan.completed !== undefined) await completions.record(trx, userId, task.id, plan.completed)
  }
}

export const taskHandlers: Handlers<'listTasks' | 'createTask' | 'getTask' | 'replaceTask' | 'updateTask' | 'toggleTaskCompletion' | 'moveTask' | 'deleteTask' | 'listTaskCompletions'> = {
  async listTaskCompletions (request) {
    const userId = request.user.id
    const taskId = request.params.task_id
    if (await tasks.findById(request.db, userId, taskId) === undefined) throw notFound()
    const { cursor, limit } = request.query
    // Bound to this task's list: a cursor of another task's, or of another list, is refused.
    const listing = { completions_of: taskId }
    const after = cursor === undefined ? undefined : await request.server.cursors.decode(cursor, userId, listing)
    const page = await completions.list(request.db, userId, taskId, { limit, after })
    return {
      items: page.rows.map((row) => ({ id: row.id, occurrence_due: row.occurrence_date ?? row.occurrence_at as string, completed_at: row.completed_at })),
      next_cursor: page.next === undefined ? null : await request.server.cursors.encode(page.next, userId, listing)
    }
  },

  async listTasks (request) {
    const userId = request.user.id
    const { cursor, limit, ...given } = request.query
    // The manual order reads first to last; every other order newest or largest first.
    const query = { ...given, order: given.order ?? (given.sort === 'position' ? 'asc' as const : 'desc' as const) }
    // The cursor is bound to the user and to everything but the page size.
    const after = cursor === undefined ? undefined : await request.server.cursors.decode(cursor, userId, query)
    const page = await tasks.list(request.db, userId, { ...query, limit, after })
    return {
      items: page.rows.map(toTask),
      next_cursor: page.next === undefined ? null : await request.server.cursors.encode(page.next, userId, query)
    }
  },

  async createTask (request, reply) {
    refuseOverlongTags(request.body.tags)
    refuseBadDue(request.body)
    const userId = request.user.id
    const state = fullState(request.body)
    return await request.withIdempotency(reply, async (db) => {
      const plan = planOrRefuse(planSchedule(undefined, state, await zoneFor(db, userId, state)))
      const task = { ...plan.changes as typeof state, completed: plan.changes.completed === true, id: request.body.id, recurrence_start: plan.start ?? null }
      // Created completed, a recurring task records that completion too, in the same transaction.
      const occurrence = plan.completed
      const row = occurrence === undefined
        ? await tasks.insert(db, userId, task)
        : await atomically(db, async (trx) => {
          const inserted = await tasks.insert(trx, userId, task)
          if (!tasks.isMiss(inserted)) await completions.record(trx, userId, inserted.id, occurrence)
          return inserted
        })
      if (tasks.isMiss(row)) throw problemFor(row)
      return {
        status: 201,
        headers: { location: resourcePath(userId, 'tasks', row.id), etag: etagFor(row.version) },
        body: toTask(row)
      }
    })
  },

  async getTask (request, reply) {
    const row = await tasks.findById(request.db, request.user.id, request.params.task_id)
    if (row === undefined) throw notFound()
    if (ifNoneMatchHits(request.headers['if-none-match'], row.version)) {
      return await reply.code(304).header('etag', etagFor(row.version)).send()
    }
    return sendTask(reply, toTask(row))
  },

  async replaceTask (request, reply) {
    refuseOverlongTags(request.body.tags)
    refuseBadDue(request.body)
    return await changeTask(request, reply, fullState(request.body))
  },

  async updateTask (request, reply) {
    refuseOverlongTags(request.body.tags)
    refuseBadDue(request.body)
    return await changeTask(request, reply, patchChanges(request.body))
  },

  async toggleTaskCompletion (request, reply) {
    return await changeTask(request, reply, { completed: request.body?.completed ?? 'toggle' })
  },

  async moveTask (request, reply) {
    const userId = request.user.id
    const taskId = request.params.task_id
    const ifVersion = ifMatchVersions(request.headers['if-match'])
    const { parent_id: parentId, after_id: afterId } = request.body
    const row = await atomically(request.db, async (trx): Promise<TaskRow | tasks.Miss> => {
      // Under the user's change counter: concurrent moves are decided one after another,
      // each on the positions the previous one left.
      await events.lockChangeCounter(trx, userId)
      const stored = await tasks.findForWrite(trx, userId, taskId)
      if (stored === undefined) return { miss: 'missing' }
      if (ifVersion !== undefined && ifVersion !== '*' && !ifVersion.includes(stored.version)) return { miss: 'stale', version: stored.version }
      const position = await tasks.positionFor(trx, userId, taskId, { parentId, afterId })
      if (tasks.isMiss(position)) return position
      return await tasks.update(trx, userId, taskId, { parent_id: parentId, position })
    })
    return sendChanged(reply, row)
  },

  async deleteTask (request, reply) {
    const result = await tasks.trash(request.db, request.user.id, request.params.task_id, ifMatchVersions(request.headers['if-match']))
    if (result !== true) throw problemFor(result)
    return await reply.code(204).send()
  }
}
