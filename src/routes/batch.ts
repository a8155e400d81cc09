/**
 * runBatch (API.md part two, "Batch"): each operation is its single request, run through the
 * whole of that request's code path (`request.injectPart`: an in-process request to the route
 * of the operationId the op names, with the caller's token), inside the batch's transaction.
 * Nothing here re-implements a rule of those requests: status, body and ETag are theirs.
 * The batch itself checks only the shape of each operation (BatchOperation), answering a bad
 * one with a 400 result of its own.
 */
import type { FastifyRequest } from 'fastify'
import { type BatchOperation, type BatchResult, dereferencedContract, operationIndex, type OperationId } from '../contract/index.js'
import { toFieldErrors } from '../contract/validation-errors.js'
import { createAjv } from '../contract/validators.js'
import { controlled, savepoint } from '../database/transactions.js'
import { ApiProblem, toProblemBody } from '../errors.js'
import type { Handlers } from './types.js'

/** The single request each op runs. */
const OPERATIONS: Record<BatchOperation['op'], OperationId> = {
  create_task: 'createTask',
  update_task: 'updateTask',
  set_completion: 'toggleTaskCompletion',
  move_task: 'moveTask',
  delete_task: 'deleteTask',
  restore_task: 'restoreTask',
  create_category: 'createCategory',
  update_category: 'updateCategory',
  delete_category: 'deleteCategory'
}

const contract = dereferencedContract()
const isOperation = createAjv({ coerceTypes: false }).compile<BatchOperation>(contract.components.schemas?.BatchOperation as object)

/** The media type a body is sent as: the first the operation takes (merge patch for the PATCHes). */
function mediaTypeOf (operationId: OperationId): string {
  const { path, method } = operationIndex[operationId]
  const operation = contract.paths[path]?.[method.toLowerCase()] as { requestBody?: { content: Record<string, unknown> } } | undefined
  return Object.keys(operation?.requestBody?.content ?? {})[0] ?? 'application/json'
}

interface Outcome {
  result: BatchResult
  /** The part's Retry-After, when it was refused by the rate limit. */
  retryAfter?: string
}

type BatchRequest = FastifyRequest<{ Params: { user_id: string } }>

/** The batch's own problems (validation-failed, failed-dependency): kinds of the shared Problem schema. */
function problemResult (request: BatchRequest, ref: string | null, problem: ApiProblem): BatchResult {
  return { ref, status: problem.status, body: toProblemBody(problem, request.url.split('?')[0] ?? request.url) as BatchResult['body'], etag: null }
}

/** Runs one element of `operations` on `db`; `counted`: whether it counts against the rate limit. */
async function runOne (request: BatchRequest, db: Parameters<FastifyRequest['injectPart']>[0], element: unknown, index: number, counted: () => boolean): Promise<Outcome> {
  const given = (element as { ref?: unknown } | null)?.ref
  const ref = typeof given === 'string' ? given : null
  if (!isOperation(element)) {
    const errors = toFieldErrors(isOperation.errors as never, 'body').map((error) => ({ ...error, pointer: `/operations/${index}${error.pointer ?? ''}` }))
    return { result: problemResult(request, ref, new ApiProblem('validation-failed', `Operation ${index} is not a valid batch operation.`, { errors })) }
  }
  const operationId = OPERATIONS[element.op]
  const { method, path } = operationIndex[operationId]
  const url = path
    .replace('{user_id}', encodeURIComponent(request.params.user_id))
    .replace(/\{(?:task_id|category_id)\}/, encodeURIComponent(element.id ?? ''))
  const headers: Record<string, string> = { 'x-request-id': request.id }
  if (request.headers.authorization !== undefined) headers.authorization = request.headers.authorization
  if (element.if_match !== undefined) headers['if-match'] = element.if_match
  if (element.body !== undefined) headers['content-type'] = mediaTypeOf(operationId)
  const response = await request.injectPart(db, {
    method,
    url,
    headers,
    remoteAddress: request.ip,
    counted: counted(),
    ...(element.body === undefined ? {} : { payload: JSON.stringify(element.body) })
  })
  const etag = response.headers.etag
  const retryAfter = response.headers['retry-after']
  return {
    result: {
      ref,
      status: response.statusCode,
      body: response.body === '' ? null : JSON.parse(response.body),
      etag: typeof etag === 'string' ? etag : null
    },
    ...(response.statusCode === 429 && retryAfter !== undefined ? { retryAfter: String(retryAfter) } : {})
  }
}

export const batchHandlers: Handlers<'runBatch'> = {
  async runBatch (request, reply) {
    const { atomic, operations } = request.body
    // The batch request itself was counted by the rate limit: that is its first operation's count.
    let firstPart = true
    const counted = (): boolean => {
      if (!firstPart) return true
      firstPart = false
      return false
    }
    return await request.withIdempotency(reply, async (db) => {
      const { committed, outcomes } = await controlled(db, async (trx) => {
        const outcomes: Outcome[] = []
        if (!atomic) {
          // Each operation behind its own savepoint: one that fails (even with an SQL error,
          // which aborts a transaction) leaves no trace and does not stop the next.
          for (const [index, element] of operations.entries()) {
            outcomes.push(await savepoint(trx, 'batch_operation', async () => {
              const outcome = await runOne(request, trx, element, index, counted)
              return { keep: outcome.result.status < 400, value: outcome }
            }))
          }
          return { committed: true, outcomes }
        }
        // All or nothing: stop at the first failure and roll every operation back. A savepoint,
        // not the transaction, so that with Idempotency-Key the response is still stored.
        const stored = await savepoint(trx, 'batch_atomic', async () => {
          for (const [index, element] of operations.entries()) {
            const outcome = await runOne(request, trx, element, index, counted)
            outcomes.push(outcome)
            if (outcome.result.status >= 400) return { keep: false, value: false }
          }
          return { keep: true, value: true }
        })
        if (stored) return { committed: true, outcomes }
        const failed = outcomes.length - 1
        const dependent = (index: number): Outcome => {
          const given = (operations[index] as { ref?: unknown } | null)?.ref
          const problem = new ApiProblem('failed-dependency', `Not stored: operation ${failed} of this atomic batch failed.`)
          return { result: problemResult(request, typeof given === 'string' ? given : null, problem) }
        }
        return { committed: false, outcomes: operations.map((_, index) => index === failed ? outcomes[failed] as Outcome : dependent(index)) }
      })
      const retryAfter = outcomes.find((outcome) => outcome.retryAfter !== undefined)?.retryAfter
      const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter }
      return {
        status: 200,
        headers,
        body: { committed, results: outcomes.map((outcome) => outcome.result) }
      }
    })
  }
}
