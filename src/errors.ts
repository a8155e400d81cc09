/**
 * ApiProblem and the catalogue of problem kinds. Every error the API answers is one of
 * these kinds; `plugins/problems` turns them into RFC 9457 application/problem+json.
 * The slugs and their `type` URIs are part of the contract (see openapi.yaml's
 * description and the Problem schema's `type` enum). The wire shapes are the contract's own
 * (type-only import of the generated schemas: nothing from src/ runs here).
 */
import type { components } from './generated/openapi.js'

export const PROBLEM_TYPE_PREFIX = 'urn:todo-contract:problem:'

/**
 * The kinds the contract declares: Problem.type's enum, and ConfirmationProblem's one type
 * (a schema of its own, so that adding it left every other operation's types as they were).
 * The catalogue below must list exactly these.
 */
type ContractProblemType = components['schemas']['Problem']['type'] | components['schemas']['ConfirmationProblem']['type']
type ContractProblemKind = ContractProblemType extends `${typeof PROBLEM_TYPE_PREFIX}${infer K}` ? K : never

export const problemKinds = {
  'validation-failed': { status: 400, title: 'Validation failed' },
  'invalid-cursor': { status: 400, title: 'Invalid cursor' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'idempotency-in-progress': { status: 409, title: 'Request in progress' },
  'sync-token-expired': { status: 410, title: 'Sync token expired' },
  'events-gone': { status: 410, title: 'Events gone' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable content' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency key reused' },
  'failed-dependency': { status: 424, title: 'Failed dependency' },
  'precondition-required': { status: 428, title: 'Precondition required' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  'service-unavailable': { status: 503, title: 'Service unavailable' }
} as const satisfies Record<ContractProblemKind, { status: number, title: string }>

// `satisfies` over the literal: a contract kind missing here, or a kind here that the
// contract does not declare, is a type error.
export type ProblemKind = keyof typeof problemKinds

/** One offending field: exactly one of pointer (into the body), parameter or header (ProblemFieldError). */
export type FieldError = components['schemas']['ProblemFieldError']

export interface ProblemExtras {
  errors?: FieldError[]
  /** Response headers that belong to this problem (Retry-After, WWW-Authenticate, ETag). */
  headers?: Record<string, string>
}

export class ApiProblem extends Error {
  readonly kind: ProblemKind
  readonly status: number
  readonly title: string
  readonly detail: string
  readonly errors: FieldError[] | undefined
  readonly headers: Record<string, string>

  constructor (kind: ProblemKind, detail?: string, extras: ProblemExtras = {}) {
    const { status, title } = problemKinds[kind]
    super(detail ?? title)
    this.name = 'ApiProblem'
    this.kind = kind
    this.status = status
    this.title = title
    this.detail = detail ?? title
    this.errors = extras.errors
    this.headers = extras.headers ?? {}
  }

  get type (): ContractProblemType {
    return `${PROBLEM_TYPE_PREFIX}${this.kind}`
  }
}

/** The wire shape of a problem (the contract's Problem schema, or ConfirmationProblem's). */
export type ProblemBody = Omit<components['schemas']['Problem'], 'type' | 'status'> & { type: ContractProblemType, status: number }

export function toProblemBody (problem: ApiProblem, instance: string): ProblemBody {
  const body: ProblemBody = {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance
  }
  if (problem.errors !== undefined && problem.errors.length > 0) body.errors = problem.errors
  return body
}
