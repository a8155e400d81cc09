/** The task operations of the contract. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { dereferencedContract, type Task } from '../contract/index.js'
import { etagFor, ifMatchVersions, ifNoneMatchHits } from '../domain/etag.js'
import { resourcePath } from '../domain/representations.js'
import { overlongOnceNormalized } from '../domain/tags.js'
import { dueProblems, fullState, patchChanges, type TaskChanges, toTask } from '../domain/tasks.js'
import { isTimeZone } from '../domain/time-zones.js'
import { ApiProblem } from '../errors.js'
import * as tasks from '../repositories/tasks.js'
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
  }
}

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

/** What PUT, PATCH and the completion toggle share: one conditional UPDATE, its miss as a problem. */
async function changeTask (
  request: FastifyRequest<{ Params: { task_id: string }, Headers: { 'if-match'?: string } }>,
  reply: FastifyReply,
  changes: TaskChanges
): Promise<Task> {
  const row = await tasks.update(request.db, request.user.id, request.params.task_id, changes, ifMatchVersions(request.headers['if-match']))
  if (tasks.isMiss(row)) throw problemFor(row)
  return sendTask(reply, toTask(row))
}

export const taskHandlers: Handlers<'listTasks' | 'createTask' | 'getTask' | 'replaceTask' | 'updateTask' | 'toggleTaskCompletion' | 'deleteTask'> = {
  async listTasks (request) {
    const userId = request.user.id
    const { cursor, limit, ...query } = request.query
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
    const state = { ...fullState(request.body), id: request.body.id }
    return await request.withIdempotency(reply, async (db) => {
      const row = await tasks.insert(db, userId, state)
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

  async deleteTask (request, reply) {
    const result = await tasks.trash(request.db, request.user.id, request.params.task_id, ifMatchVersions(request.headers['if-match']))
    if (result !== true) throw problemFor(result)
    return await reply.code(204).send()
  }
}
