/**
 * What one route's operation says about requests, read from the contract once per route and
 * kept in the route's config: which plugins apply (authentication comes from the operation's
 * `security`, not from its URL) and what body it takes.
 */
import type { FastifyRequest } from 'fastify'
import type { ContractOperation, OpenApiDocument } from './index.js'

export interface RouteContract {
  operationId: string
  /** The operation's `security` (or the document's) asks for a bearer token. */
  authenticated: boolean
  /** The path names a user (`{user_id}`): the caller's own id or `me` only. */
  userScoped: boolean
  /** Media types of the request body, when the operation takes one. */
  mediaTypes: string[] | undefined
  bodyRequired: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig {
    contract?: RouteContract
  }
}

export function routeContract (document: OpenApiDocument, { operationId, path, operation }: ContractOperation): RouteContract {
  const security = (operation.security ?? document.security ?? []) as unknown[]
  return {
    operationId,
    authenticated: security.length > 0,
    userScoped: path.includes('{user_id}'),
    mediaTypes: operation.requestBody === undefined ? undefined : Object.keys(operation.requestBody.content),
    bodyRequired: operation.requestBody?.required === true
  }
}

/**
 * The route's operation asks for a bearer token. Requests no operation serves (404, 405)
 * and the contract's own documents are served without one: the contract is public.
 */
export function isAuthenticatedRoute (request: FastifyRequest): boolean {
  return request.routeOptions.config.contract?.authenticated === true
}
