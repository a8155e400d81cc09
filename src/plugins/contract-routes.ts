/**
 * Routes from the contract, with fastify-openapi-glue: one route per operation of
 * openapi.yaml, its params/query/headers/body validated and its responses serialized with
 * the contract's own schemas, and the operation's RouteContract (contract/route-contract.ts)
 * in its config. Startup fails when an operation has no handler, when a handler names no
 * operation, or when anything registers a route the contract does not declare (but for
 * @fastify/cors's `OPTIONS *`, registered before this plugin when CORS_ORIGINS is set: it
 * answers preflights of the declared routes and hands every other OPTIONS to the 405 handler).
 *
 * Adds three named hooks, in this order: refuseForeignUser in `preParsing`, before the body
 * is read (403 when `{user_id}` is neither the caller's id nor `me`), then in `preValidation`
 * refuseUnsafeParameters (400 for NUL or lone surrogates in query and path values) and
 * checkBody (415 for a media type the operation does not accept, 400 for a missing required
 * body).
 */
import type { FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import openapiGlue from 'fastify-openapi-glue'
import { dereferencedContract, listOperations } from '../contract/index.js'
import { routeContract } from '../contract/route-contract.js'
import { isSafeText } from '../domain/safe-text.js'
import { ApiProblem, type FieldError } from '../errors.js'
import type { Handlers } from '../routes/types.js'

export interface ContractRoutesOptions {
  handlers: Handlers
  /** Path prefixes of routes that serve the contract itself (documentation, static assets). */
  infrastructurePrefixes: string[]
  /**
   * Body limits set by configuration rather than by the contract (importAccount:
   * IMPORT_MAX_BYTES), by operationId; they take precedence over `x-body-limit`.
   */
  bodyLimits?: Partial<Record<string, number>>
}

async function refuseForeignUser (request: FastifyRequest): Promise<void> {
  if (request.routeOptions.config.contract?.userScoped !== true) return
  const { user_id: pathUser } = request.params as { user_id: string }
  if (pathUser !== 'me' && pathUser !== request.user.id) {
    throw new ApiProblem('forbidden', 'The path names another user; use your own id or "me".')
  }
}

/** Query and path values reach SQL too: NUL and lone surrogates are refused there as in bodies. */
async function refuseUnsafeParameters (request: FastifyRequest): Promise<void> {
  if (request.routeOptions.config.contract === undefined) return
  const unsafe: FieldError[] = []
  for (const source of [request.query, request.params] as Array<Record<string, unknown> | undefined>) {
    for (const [name, value] of Object.entries(source ?? {})) {
      const values = Array.isArray(value) ? value : [value]
      if (values.some((v) => typeof v === 'string' && !isSafeText(v))) unsafe.push({ parameter: name, detail: 'holds a NUL character or a lone surrogate' })
    }
  }
  if (unsafe.length > 0) throw new ApiProblem('validation-failed', 'Parameters may not hold NUL characters or lone UTF-16 surrogates.', { errors: unsafe })
}

async function checkBody (request: FastifyRequest): Promise<void> {
  const contract = request.routeOptions.config.contract
  if (contract?.mediaTypes === undefined) return
  if (request.body !== undefined && request.body !== null) {
    const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
    if (mediaType === undefined || !contract.mediaTypes.includes(mediaType)) {
      throw new ApiProblem('unsupported-media-type', `Send the body as ${contract.mediaTypes.join(' or ')}.`)
    }
  } else if (contract.bodyRequired) {
    throw new ApiProblem('validation-failed', 'A request body is required.', { errors: [{ pointer: '', detail: 'is required' }] })
  }
}

const contractRoutes: FastifyPluginAsync<ContractRoutesOptions> = async (app, { handlers, infrastructurePrefixes, bodyLimits = {} }) => {
  const document = dereferencedContract()
  const operations = listOperations(document).filter((o) => o.operation['x-no-fastify-config'] !== true)
  const declared = new Set(operations.map((o) => `${o.method} ${o.path.replace(/{(\w+)}/g, ':$1')}`))

  const unknown = Object.keys(handlers).filter((id) => !operations.some((o) => o.operationId === id))
  if (unknown.length > 0) throw new Error(`handlers for operations the contract does not declare: ${unknown.join(', ')}`)
  const unknownLimits = Object.keys(bodyLimits).filter((id) => !operations.some((o) => o.operationId === id))
  if (unknownLimits.length > 0) throw new Error(`body limits for operations the contract does not declare: ${unknownLimits.join(', ')}`)

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (infrastructurePrefixes.some((prefix) => route.url === prefix || route.url.startsWith(prefix + '/'))) return
    for (const method of methods) {
      if (method === 'HEAD' && declared.has(`GET ${route.url}`)) continue
      if (!declared.has(`${method} ${route.url}`)) throw new Error(`route ${method} ${route.url} is not declared in openapi.yaml`)
    }
  })

  // Before the body is read (preParsing, after the auth plugin's onRequest): another user's
  // path is 403 whatever its body, so its size, media type and syntax tell nothing first.
  app.addHook('preParsing', async (request, _reply, payload) => { await refuseForeignUser(request); return payload })
  app.addHook('preValidation', refuseUnsafeParameters)
  app.addHook('preValidation', checkBody)

  await app.register(openapiGlue, {
    specification: document,
    operationResolver: ((operationId: string) => {
      const handler = (handlers as Record<string, unknown>)[operationId]
      if (typeof handler !== 'function') throw new Error(`operation ${operationId} has no handler`)
      const operation = operations.find((o) => o.operationId === operationId)
      if (operation === undefined) throw new Error(`operation ${operationId} is not in the contract`)
      // An operation may allow bodies above the global limit (x-body-limit: runBatch; or the
      // configuration's: importAccount).
      const bodyLimit = bodyLimits[operationId] ?? operation.operation['x-body-limit']
      return { handler, config: { contract: routeContract(document, operation) }, ...(typeof bodyLimit === 'number' ? { bodyLimit } : {}) }
    }) as never
  })
}

export default fp(contractRoutes, { name: 'contract-routes', dependencies: ['auth'] })
