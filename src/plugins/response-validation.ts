/**
 * Runtime response validation (RESPONSE_VALIDATION; on unless NODE_ENV=production): every
 * answer is checked against openapi.yaml before it leaves (src/contract/conformance.ts: its
 * status declared for the operation, the headers the contract requires, its content type,
 * a JSON body against the schema). An answer that breaks the contract is logged at error
 * with what is wrong and replaced by a 500 `internal` problem, so a drift between the code
 * and the contract fails the test that provoked it, at its source. The serializer cannot
 * catch this alone: it writes what the schema names and drops the rest, so a missing
 * required field or an undeclared status would pass it.
 * Streamed bodies (an export) are checked for status, headers and content type only; an
 * event stream takes over the connection and is not seen here. Off in production for speed
 * (the cost: docs/benchmarks.md).
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { operationViolations } from '../contract/conformance.js'
import { problemBodyFor, unexpectedProblem } from './problems.js'

/** Headers that describe the answer the contract refused; they must not outlive it. */
const ANSWER_HEADERS = ['etag', 'location', 'content-disposition', 'idempotent-replayed', 'allow', 'www-authenticate', 'retry-after']

function bodyText (payload: unknown): string | undefined {
  if (payload === null || payload === undefined) return ''
  if (typeof payload === 'string') return payload
  if (Buffer.isBuffer(payload)) return payload.toString('utf8')
  return undefined
}

const responseValidation: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (request, reply, payload) => {
    const operationId = request.routeOptions.config.contract?.operationId
    // Routes outside the contract (the documentation, CORS preflights) are not its to judge;
    // requests no route serves are, as the not-found handler's problems.
    if (operationId === undefined && request.routeOptions.url !== undefined) return payload
    const violations = operationViolations(operationId, { status: reply.statusCode, headers: reply.getHeaders(), body: request.method === 'HEAD' ? undefined : bodyText(payload) })
    if (violations.length === 0) return payload
    request.log.error({ operationId, status: reply.statusCode, violations }, 'response breaks the contract (RESPONSE_VALIDATION)')
    for (const header of ANSWER_HEADERS) reply.removeHeader(header)
    reply.code(500).type('application/problem+json')
    // In onSend the reply is already being sent: the payload is replaced, not sent anew.
    return JSON.stringify(problemBodyFor(request, unexpectedProblem()))
  })
}

export default fp(responseValidation, { name: 'response-validation' })
