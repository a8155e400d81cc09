/**
 * Handler types derived from the generated contract types: a handler for operation K gets
 * its path, query and header parameters and its body typed as openapi.yaml declares, and
 * must return one of K's success bodies.
 */
import type { FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify'
import type { OperationId, operations } from '../contract/index.js'

/** Operations served by @fastify/swagger(-ui) rather than by a handler. */
export type ContractServedOperation = 'getContractJson' | 'getContractYaml' | 'getDocs'
export type HandledOperation = Exclude<OperationId, ContractServedOperation>

type Op<K extends OperationId> = operations[K]
type Part<K extends OperationId, Where extends 'path' | 'query' | 'header'> =
  Op<K>['parameters'] extends Record<Where, infer P> ? ([P] extends [never] ? Record<string, never> : NonNullable<P>) : Record<string, never>

/** Node lowercases header names; the contract spells them as on the wire (`If-Match`). */
type LowercaseKeys<T> = { [P in keyof T as Lowercase<P & string>]: T[P] }

type ContentOf<B> = B extends { content: infer C } ? C[keyof C] : never
type Body<K extends OperationId> =
  Op<K> extends { requestBody: infer B } ? ContentOf<B>
    : Op<K> extends { requestBody?: infer B } ? ContentOf<B> | undefined
      : undefined

type Success = 200 | 201
export type SuccessBody<K extends OperationId> = {
  [S in keyof Op<K>['responses']]: S extends Success
    ? Op<K>['responses'][S] extends { content: { 'application/json': infer B } } ? B : never
    : never
}[keyof Op<K>['responses']]

export interface OperationRoute<K extends OperationId> extends RouteGenericInterface {
  Params: Part<K, 'path'>
  Querystring: Part<K, 'query'>
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
