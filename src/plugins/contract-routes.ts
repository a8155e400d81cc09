/**
 * Routes from the contract, with fastify-openapi-glue: one route per operation of
 * openapi.yaml, its params/query/headers/body validated and its responses serialized with
 * the contract's own schemas. Startup fails when an operation has no handler, when a handler
 * names no operation, or when anything registers a route the contract does not declare.
 *
 * Adds a `preValidation` hook that, before schema validation, refuses a body whose media
 * type the operation does not accept (415) and a missing required body (400), and answers
 * 403 when `{user_id}` is neither the caller's id nor `me`.
 */
import type { FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import openapiGlue from 'fastify-openapi-glue'
import { dereferencedContract, listOperations } from '../contract/index.js'
import { isSafeText } from '../domain/safe-text.js'
import { ApiProblem, type FieldError } from '../errors.js'
import type { Handlers } from '../routes/types.js'

export interface ContractRoutesOptions {
  handlers: Handlers
  /** Path prefixes of routes that serve the contract itself (documentation, static assets). */
  infrastructurePrefixes: string[]
}

interface RouteContract {
  operationId: string
  mediaTypes: string[] | undefined
  bodyRequired: boolean
  userScoped: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig {
    contract?: RouteContract
  }
}

function mediaTypeOf (request: FastifyRequest): string | undefined {
  const header = request.headers['content-type']
  return header?.split(';')[0]?.trim().toLowerCase()
}

function hasBody (request: FastifyRequest): boolean {
  return request.body !== undefined && request.body !== null
}

const contractRoutes: FastifyPluginAsync<ContractRoutesOptions> = async (app, { handlers, infrastructurePrefixes }) => {
  const document = dereferencedContract()
  const operations = listOperations(document).filter((o) => o.operation['x-no-fastify-config'] !== true)
  const declared = new Set(operations.map((o) => `${o.method} ${o.path.replace(/{(\w+)}/g, ':$1')}`))

  const unknown = Object.keys(handlers).filter((id) => !operations.some((o) => o.operationId === id))
  if (unknown.length > 0) throw new Error(`handlers for operations the contract does not declare: ${unknown.join(', ')}`)

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (infrastructurePrefixes.some((prefix) => route.url === prefix || route.url.startsWith(prefix + '/'))) return
    for (const method of methods) {
      if (method === 'HEAD' && declared.has(`GET ${route.url}`)) continue
      if (!declared.has(`${method} ${route.url}`)) throw new Error(`route ${method} ${route.url} is not declared in openapi.yaml`)
    }
  })

  app.addHook('preValidation', async (request) => {
    const contract = request.routeOptions.config.contract
    if (contract === undefined) return
    if (contract.userScoped) {
      const { user_id: pathUser } = request.params as { user_id: string }
      if (pathUser !== 'me' && pathUser !== request.user.id) {
        throw new ApiProblem('forbidden', 'The path names another user; use your own id or "me".')
      }
    }
    // Query and path values reach SQL too: NUL and lone surrogates are refused there as in bodies.
    const unsafe: FieldError[] = []
    for (const source of [request.query, request.params] as Array<Record<string, unknown> | undefined>) {
      for (const [name, value] of Object.entries(source ?? {})) {
        const values = Array.isArray(value) ? value : [value]
        if (values.some((v) => typeof v === 'string' && !isSafeText(v))) unsafe.push({ parameter: name, detail: 'holds a NUL character or a lone surrogate' })
      }
    }
    if (unsafe.length > 0) throw new ApiProblem('validation-failed', 'Parameters may not hold NUL characters or lone UTF-16 surrogates.', { errors: unsafe })
    if (contract.mediaTypes === undefined) return
    if (hasBody(request)) {
      const mediaType = mediaTypeOf(request)
      if (mediaType === undefined || !contract.mediaTypes.includes(mediaType)) {
        throw new ApiProblem('unsupported-media-type', `Send the body as ${contract.mediaTypes.join(' or ')}.`)
      }
    } else if (contract.bodyRequired) {
      throw new ApiProblem('validation-failed', 'A request body is required.', { errors: [{ pointer: '', detail: 'is required' }] })
    }
  })

  await app.register(openapiGlue, {
    specification: document,
    operationResolver: ((operationId: string) => {
      const handler = (handlers as Record<string, unknown>)[operationId]
      if (typeof handler !== 'function') throw new Error(`operation ${operationId} has no handler`)
      const spec = operations.find((o) => o.operationId === operationId)
      if (spec === undefined) throw new Error(`operation ${operationId} is not in the contract`)
      const contract: RouteContract = {
        operationId,
        mediaTypes: spec.operation.requestBody === undefined ? undefined : Object.keys(spec.operation.requestBody.content),
        bodyRequired: spec.operation.requestBody?.required === true,
        userScoped: spec.path.includes('{user_id}')
      }
      return { handler, config: { contract } }
    }) as never
  })
}

export default fp(contractRoutes, { name: 'contract-routes', dependencies: ['auth'] })
