/**
 * Handler types derived from the generated contract types: a handler for operation K gets
 * its path, query and header parameters and its body typed as openapi.yaml declares them
 * once validated (members with a default are present), and must return one of K's success
 * bodies.
 */
import type { FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify'
import type { OperationId, operationIndex, operations, ValidatedOperations } from '../contract/index.js'

/** Operations a handler serves (not those the docs plugin serves: `x-no-fastify-config`). */
export type HandledOperation = { [K in OperationId]: (typeof operationIndex)[K]['handled'] extends true ? K : never }[OperationId]

type Op<K extends OperationId> = operations[K]
type Part<K extends OperationId, Where extends 'path' | 'query' | 'header'> =
  ValidatedOperations[K]['parameters'] extends Record<Where, infer P> ? ([P] extends [never] ? Record<string, never> : NonNullable<P>) : Record<string, never>
/** Query parameters with a default in the contract are always present once validated. */
type Query<K extends OperationId> = Part<K, 'query'> & Required<Pick<Part<K, 'query'>, keyof (typeof operationIndex)[K]['queryDefaults'] & keyof Part<K, 'query'>>>

/** Node lowercases header names; the contract spells them as on the wire (`If-Match`). */
type LowercaseKeys<T> = { [P in keyof T as Lowercase<P & string>]: T[P] }

type ContentOf<B> = B extends { content: infer C } ? C[keyof C] : never
type Body<K extends OperationId> =
  ValidatedOperations[K] extends { requestBody: infer B } ? ContentOf<B>
    : ValidatedOperations[K] extends { requestBody?: infer B } ? ContentOf<B> | undefined
      : undefined

type Success = 200 | 201
export type SuccessBody<K extends OperationId> = {
  [S in keyof Op<K>['responses']]: S extends Success
    ? Op<K>['responses'][S] extends { content: { 'application/json': infer B } } ? B : never
    : never
}[keyof Op<K>['responses']]

export interface OperationRoute<K extends OperationId> extends RouteGenericInterface {
  Params: Part<K, 'path'>
  Querystring: Query<K>
  Headers: LowercaseKeys<Part<K, 'header'>>
  Body: Body<K>
}

/**
 * Returns the success body, or the reply when it sent something itself (304, 204, a
 * replayed response).
 */
export type OperationHandler<K extends OperationId> = (
  request: FastifyRequest<OperationRoute<K>>,
  reply: FastifyReply
) => Promise<SuccessBody<K> | FastifyReply>

export type Handlers<K extends HandledOperation = HandledOperation> = { [P in K]: OperationHandler<P> }
