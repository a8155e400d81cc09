/**
 * The only place that writes application/problem+json (RFC 9457). Sets Fastify's error
 * handler and not-found handler: every failure — ApiProblem, schema validation, body
 * parsing, unknown route, lost database, anything unexpected — becomes a problem. 5xx are
 * logged here, once, with the request id; their bodies never carry messages, stacks or SQL.
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify'
import fp from 'fastify-plugin'
import { ApiProblem, type FieldError, toProblemBody } from '../errors.js'
import { isDatabaseUnavailable, isOutOfRangeInput, isUnknownTimeZone } from '../database/errors.js'
import { toFieldErrors } from '../contract/validation-errors.js'

const DATABASE_RETRY_AFTER_SECONDS = '5'
const METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** Fastify's own errors from reading a body, by code. */
function fromFastifyError (error: FastifyError, bodyLimit: number): ApiProblem | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiProblem('payload-too-large', `The body is larger than ${bodyLimit} bytes.`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiProblem('unsupported-media-type', 'Send the body as application/json.')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiProblem('validation-failed', 'The body is empty although a JSON content type was given.', { errors: [{ pointer: '', detail: 'must be a JSON document' }] })
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiProblem('validation-failed', 'Content-Length does not match the body.', { errors: [{ header: 'Content-Length', detail: 'does not match the body' }] })
  }
  if (error.validation !== undefined) {
    const errors: FieldError[] = toFieldErrors(error.validation, error.validationContext as Parameters<typeof toFieldErrors>[1])
    return new ApiProblem('validation-failed', 'The request does not match the contract.', { errors })
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    // secure-json-parse: malformed JSON, or a __proto__ / constructor.prototype key.
    return new ApiProblem('validation-failed', 'The body is not valid JSON.', { errors: [{ pointer: '', detail: error.message }] })
  }
  if (error.code === 'FST_ERR_RATE_LIMIT_EXCEEDED' || error.statusCode === 429) {
    return new ApiProblem('rate-limited', error.message)
  }
  return undefined
}

/** The 500 of an unexpected fault: no internals, the request id to quote. */
export const unexpectedProblem = (): ApiProblem => new ApiProblem('internal', 'An unexpected error occurred. Quote the request id when reporting it.')

/** The problem's body for this request (its path as `instance`). */
export function problemBodyFor (request: FastifyRequest, problem: ApiProblem): ReturnType<typeof toProblemBody> {
  return toProblemBody(problem, request.url.split('?')[0] ?? request.url)
}

export function sendProblem (request: FastifyRequest, reply: FastifyReply, problem: ApiProblem): FastifyReply {
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type('application/problem+json')
    .send(problemBodyFor(request, problem))
}

const problems: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let problem = error instanceof ApiProblem ? error : fromFastifyError(error, request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? 1048576)
    if (problem === undefined && isOutOfRangeInput(error)) {
      problem = new ApiProblem('validation-failed', 'A date-time is outside the range the service can store.')
    }
    if (problem === undefined && isUnknownTimeZone(error)) {
      problem = new ApiProblem('validation-failed', 'Unknown time zone.', {
        errors: [{ pointer: '/time_zone', detail: 'is not a time zone name the database knows' }]
      })
    }
    if (problem === undefined && isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable')
      problem = new ApiProblem('service-unavailable', 'The database cannot be reached; retry later.', { headers: { 'retry-after': DATABASE_RETRY_AFTER_SECONDS } })
    }
    if (problem === undefined) {
      request.log.error({ err: error }, 'unexpected error')
      problem = unexpectedProblem()
    } else if (problem.status >= 500 && problem.kind !== 'service-unavailable') {
      request.log.error({ err: error }, problem.title)
    }
    return sendProblem(request, reply, problem)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null)
    if (allowed.length > 0) {
      return sendProblem(request, reply, new ApiProblem('method-not-allowed', `${request.method} is not allowed here.`, { headers: { allow: allowed.join(', ') } }))
    }
    return sendProblem(request, reply, new ApiProblem('not-found', `No route ${request.method} ${path}.`))
  })
}

export default fp(problems, { name: 'problems' })
