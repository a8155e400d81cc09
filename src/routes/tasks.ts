/** The task operations of the contract. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Task } from '../contract/index.js'
import type { Database } from '../database/types.js'
import { decodeCursor, encodeCursor, queryFingerprint } from '../domain/cursor.js'
import { etagFor, ifMatchVersions, ifNoneMatchHits } from '../domain/etag.js'
import { resourcePath } from '../domain/representations.js'
import { requestHash } from '../domain/request-hash.js'
import { fullState, patchChanges, type TaskChanges, toTask } from '../domain/tasks.js'
import { ApiProblem } from '../errors.js'
import * as idempotency from '../repositories/idempotency.js'
import * as serviceKeys from '../repositories/service-keys.js'
import * as tasks from '../repositories/tasks.js'
import type { Handlers } from './types.js'
import type { TaskRow } from '../database/types.js'
import type { Kysely } from 'kysely'

const notFound = (): ApiProblem => new ApiProblem('not-found', 'No task with this id.')
const unknownCategory = (): ApiProblem => new ApiProblem('unprocessable', 'No category with this id.', {
  errors: [{ pointer: '/category_id', detail: 'is not one of your categories' }]
})

/** A write that missed: 404, 412 with the current ETag, or 422. */
function problemFor (miss: tasks.Miss): ApiProblem {
  switch (miss.miss) {
    case 'missing': return notFound()
    case 'stale': return new ApiProblem('precondition-failed', 'The task has changed since the given ETag.', { headers: { etag: etagFor(miss.version) } })
    case 'unknown-category': return unknownCategory()
  }
}

function sendTask (reply: FastifyReply, row: TaskRow): Task {
  reply.header('etag', etagFor(row.version))
  return toTask(row)
}

/** What PUT, PATCH and the completion toggle share: one conditional UPDATE, its miss as a problem. */
async function changeTask (
  request: FastifyRequest<{ Params: { task_id: string }, Headers: { 'if-match'?: string } }>,
  reply: FastifyReply,
  changes: TaskChanges
): Promise<Task> {
  const userId = request.user.id
  const ifVersion = ifMatchVersions(request.headers['if-match'])
  const row = await request.server.asUser(userId, async (db) => await tasks.update(db, userId, request.params.task_id, changes, ifVersion))
  if (tasks.isMiss(row)) throw problemFor(row)
  return sendTask(reply, row)
}

// The cursor signing key is read once per database handle and shared by every process
// through the database; a failed read is retried on the next request.
const cursorSecrets = new WeakMap<Kysely<Database>, Promise<string>>()
async function cursorSecret (db: Kysely<Database>): Promise<string> {
  let secret = cursorSecrets.get(db)
  if (secret === undefined) {
    secret = serviceKeys.findSecret(db, 'cursor').then((value) => {
      if (value === undefined) throw new Error('service key "cursor" is missing: run the migrations')
      return value
    })
    cursorSecrets.set(db, secret)
    secret.catch(() => { cursorSecrets.delete(db) })
  }
  return await secret
}

export const taskHandlers: Handlers<'listTasks' | 'createTask' | 'getTask' | 'replaceTask' | 'updateTask' | 'toggleTaskCompletion' | 'deleteTask'> = {
  async listTasks (request) {
    const userId = request.user.id
    const { cursor, limit = 50, ...filters } = request.query
    const query = {
      status: filters.status ?? 'all',
      priority: filters.priority,
      categoryId: filters.category_id,
      tag: filters.tag,
      q: filters.q,
      dueAfter: filters.due_after,
      dueBefore: filters.due_before,
      sort: filters.sort ?? 'created_at',
      order: filters.order ?? 'desc'
    } satisfies Omit<tasks.TaskListQuery, 'limit' | 'after'>
    // The cursor is bound to the user and to everything but the page size.
    const fingerprint = queryFingerprint(userId, query)
    const secret = await cursorSecret(request.server.db)
    let after: { key: string, id: string } | undefined
    if (cursor !== undefined) {
      const decoded = decodeCursor(cursor, fingerprint, secret)
      if (decoded === 'tampered' || decoded === 'mismatch') {
        throw new ApiProblem('invalid-cursor', decoded === 'tampered'
          ? 'The cursor is not one this service issued.'
          : 'The cursor was issued for another user, or other filters, sort or order.', {
          errors: [{ parameter: 'cursor', detail: decoded === 'tampered' ? 'is not valid' : 'does not match this query' }]
        })
      }
      after = decoded
    }
    const page = await request.server.asUser(userId, async (db) => await tasks.list(db, userId, { ...query, limit, after }))
    return {
      items: page.rows.map(toTask),
      next_cursor: page.next === undefined ? null : encodeCursor(page.next, fingerprint, secret)
    }
  },

  async createTask (request, reply) {
    const userId = request.user.id
    const state = fullState(request.body)
    const key = request.headers['idempotency-key']
    const created = (row: TaskRow): { status: number, headers: Record<string, string>, body: Task } => ({
      status: 201,
      headers: { location: resourcePath(userId, 'tasks', row.id), etag: etagFor(row.version) },
      body: toTask(row)
    })

    if (key === undefined) {
      const row = await request.server.asUser(userId, async (db) => await tasks.insert(db, userId, state))
      if (tasks.isMiss(row)) throw problemFor(row)
      const response = created(row)
      reply.code(201).headers(response.headers)
      return response.body
    }

    // Safe retries: the claim, the lookup, the insert and the stored response commit together.
    const hash = requestHash(request.body)
    const outcome = await request.server.asUserAtomically(userId, async (trx) => {
      if (!await idempotency.claim(trx, userId, key)) return { kind: 'in-flight' } as const
      const stored = await idempotency.find(trx, userId, key)
      if (stored !== undefined) return stored.request_hash === hash ? { kind: 'replay', stored } as const : { kind: 'mismatch' } as const
      const row = await tasks.insert(trx, userId, state)
      if (tasks.isMiss(row)) return { kind: 'miss', miss: row } as const
      const response = created(row)
      await idempotency.save(trx, userId, key, hash, { ...response, body: JSON.stringify(response.body) })
      return { kind: 'created', response } as const
    })
    switch (outcome.kind) {
      case 'in-flight':
        throw new ApiProblem('idempotency-in-progress', 'A request with this Idempotency-Key is still being processed; retry later.', { headers: { 'retry-after': '1' } })
      case 'mismatch':
        throw new ApiProblem('idempotency-key-reused', 'This Idempotency-Key was used with a different body.', {
          errors: [{ header: 'Idempotency-Key', detail: 'was used with a different body' }]
        })
      case 'miss':
        throw problemFor(outcome.miss)
      case 'replay':
        // The original response, byte for byte, as first sent.
        return await reply.code(outcome.stored.response_status)
          .headers({ ...outcome.stored.response_headers, 'idempotent-replayed': 'true' })
          .type('application/json; charset=utf-8')
          .send(outcome.stored.response_body)
      case 'created':
        reply.code(201).headers(outcome.response.headers)
        return outcome.response.body
    }
  },

  async getTask (request, reply) {
    const userId = request.user.id
    const row = await request.server.asUser(userId, async (db) => await tasks.findById(db, userId, request.params.task_id))
    if (row === undefined) throw notFound()
    if (ifNoneMatchHits(request.headers['if-none-match'], row.version)) {
      return await reply.code(304).header('etag', etagFor(row.version)).send()
    }
    return sendTask(reply, row)
  },

  async replaceTask (request, reply) {
    return await changeTask(request, reply, fullState(request.body))
  },

  async updateTask (request, reply) {
    return await changeTask(request, reply, patchChanges(request.body))
  },

  async toggleTaskCompletion (request, reply) {
    return await changeTask(request, reply, { completed: request.body?.completed ?? 'toggle' })
  },

  async deleteTask (request, reply) {
    const userId = request.user.id
    const result = await request.server.asUser(userId, async (db) => await tasks.remove(db, userId, request.params.task_id, ifMatchVersions(request.headers['if-match'])))
    if (result !== true) throw problemFor(result)
    return await reply.code(204).send()
  }
}
