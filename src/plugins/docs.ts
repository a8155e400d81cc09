/**
 * The contract served as it is: @fastify/swagger in static mode over openapi.yaml, exposed at
 * /openapi.json and /openapi.yaml (the YAML verbatim), and Swagger UI at /docs, where a bearer
 * token can be entered (Authorize) and operations tried. No authentication on these routes.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { contractText, loadContract } from '../contract/index.js'

export const DOCS_PREFIX = '/docs'
export const CONTRACT_ROUTES = ['/openapi.json', '/openapi.yaml']

const docs: FastifyPluginAsync = async (app) => {
  await app.register(swagger, { mode: 'static', specification: { document: loadContract() as never } })
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { persistAuthorization: true, displayRequestDuration: true, tryItOutEnabled: true },
    staticCSP: false
  })
  const json = JSON.stringify(loadContract())
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return await reply.type('application/json; charset=utf-8').send(json)
  })
  app.get('/openapi.yaml', { schema: { hide: true } }, async (_request, reply) => {
    return await reply.type('application/yaml; charset=utf-8').send(contractText)
  })
}

export default fp(docs, { name: 'docs' })
