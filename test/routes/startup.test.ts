/** The app refuses to start when handlers and the contract disagree. */
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import t from 'tap'
import contractRoutes from '../../src/plugins/contract-routes.js'
import { handlers } from '../../src/routes/index.js'
import type { Handlers } from '../../src/routes/types.js'
import { buildTestApp } from '../helpers/build-app.js'

async function register (handlerMap: Record<string, unknown>, extraRoute = false): Promise<void> {
  const app = Fastify({ logger: false })
  app.decorateRequest('user', null as never)
  // contract-routes depends on the auth plugin by name; a stand-in is enough here.
  await app.register(fp(async () => {}, { name: 'auth' }))
  try {
    await app.register(async (instance) => {
      instance.decorate('db', null as never)
      await instance.register(contractRoutes, { handlers: handlerMap as Handlers, infrastructurePrefixes: ['/docs'] })
      if (extraRoute) instance.get('/api/secret-backdoor', async () => ({}))
    })
    await app.ready()
  } finally {
    await app.close()
  }
}

t.test('startup', async (t) => {
  t.test('fails when an operation has no handler', async (t) => {
    const { getTask, ...rest } = handlers
    await t.rejects(register(rest), /getTask has no handler/)
  })
  t.test('fails when a handler names no operation', async (t) => {
    await t.rejects(register({ ...handlers, deleteEverything: async () => ({}) }), /deleteEverything/)
  })
  t.test('fails when a route the contract does not declare is added', async (t) => {
    await t.rejects(register(handlers, true), /GET \/api\/secret-backdoor is not declared/)
  })
  t.test('serves every contract operation', async (t) => {
    const app = await buildTestApp(t)
    t.ok(app.hasRoute({ method: 'PATCH', url: '/api/:user_id/tasks/:task_id/complete' }))
    t.ok(app.hasRoute({ method: 'GET', url: '/openapi.json' }))
  })
})
