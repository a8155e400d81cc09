/**
 * The contract served as it is: @fastify/swagger in static mode over openapi.yaml, exposed at
 * /openapi.json and /openapi.yaml (the YAML verbatim), and Swagger UI at /docs, where a bearer
 * token can be entered (Authorize) and operations tried. No authentication on these routes.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { contractText, loadContract, operationIndex } from '../contract/index.js'

/** Where the contract puts them (its operations marked `x-no-fastify-config`). */
const { getDocs, getContractJson, getContractYaml } = operationIndex
/** The paths this plugin serves, Swagger UI's assets below the first. */
export const DOCS_ROUTES = [getDocs.path, getContractJson.path, getContractYaml.path]

const docs: FastifyPluginAsync = async (app) => {
  await app.register(swagger, { mode: 'static', specification: { document: loadContract() as never } })
  await app.register(swaggerUi, {
    routePrefix: getDocs.path,
    uiConfig: { persistAuthorization: true, displayRequestDuration: true, tryItOutEnabled: true },
    staticCSP: false
  })
  const json = JSON.stringify(loadContract())
  app.get(getContractJson.path, { schema: { hide: true } }, async (_request, reply) => {
    return await reply.type('application/json; charset=utf-8').send(json)
  })
  app.get(getContractYaml.path, { schema: { hide: true } }, async (_request, reply) => {
    return await reply.type('application/yaml; charset=utf-8').send(contractText)
  })
}

export default fp(docs, { name: 'docs' })
