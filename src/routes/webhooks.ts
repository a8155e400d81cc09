/** Webhooks (API.md part two, "Events", Webhooks): the six operations of the resource. */
import { resourcePath } from '../domain/representations.js'
import { newSecret, normalizeEventTypes, toWebhook, toWebhookDelivery } from '../domain/webhooks.js'
import { ApiProblem } from '../errors.js'
import * as webhooks from '../repositories/webhooks.js'
import type { Handlers } from './types.js'

const notFound = (): ApiProblem => new ApiProblem('not-found', 'No webhook with this id.')

/** 400 naming /url when the target is not allowed (checked after DNS, as at every delivery). */
async function checkUrl (check: (url: string) => Promise<string | null>, url: string): Promise<void> {
  const refused = await check(url)
  if (refused !== null) {
    throw new ApiProblem('validation-failed', 'The webhook URL is not allowed.', { errors: [{ pointer: '/url', detail: refused }] })
  }
}

export const webhookHandlers: Handlers<'listWebhooks' | 'createWebhook' | 'getWebhook' | 'updateWebhook' | 'deleteWebhook' | 'listWebhookDeliveries'> = {
  async listWebhooks (request) {
    const rows = await webhooks.list(request.db, request.user.id)
    return { items: rows.map(toWebhook) }
  },

  async createWebhook (request, reply) {
    const { url, events, description } = request.body
    const userId = request.user.id
    await checkUrl(request.server.checkWebhookTarget, url)
    const secret = newSecret()
    const row = await webhooks.insert(request.db, userId, { url, events: normalizeEventTypes(events), description: description ?? null, secret })
    if (row === 'limit') throw new ApiProblem('unprocessable', `A user may have at most ${webhooks.MAX_WEBHOOKS_PER_USER} webhooks.`)
    reply.code(201).header('location', resourcePath(userId, 'webhooks', row.id))
    return { ...toWebhook(row), secret }
  },

  async getWebhook (request) {
    const row = await webhooks.findById(request.db, request.user.id, request.params.webhook_id)
    if (row === undefined) throw notFound()
    return toWebhook(row)
  },

  async updateWebhook (request) {
    const { url, events, description, enabled } = request.body
    const userId = request.user.id
    const webhookId = request.params.webhook_id
    if (url !== undefined) {
      // Another user's id is 404 whatever the body says; only then is the URL resolved.
      if (await webhooks.findById(request.db, userId, webhookId) === undefined) throw notFound()
      await checkUrl(request.server.checkWebhookTarget, url)
    }
    const row = await webhooks.update(request.db, userId, webhookId, {
      ...(url === undefined ? {} : { url }),
      ...(events === undefined ? {} : { events: normalizeEventTypes(events) }),
      ...(description === undefined ? {} : { description }),
      ...(enabled === undefined ? {} : { enabled })
    })
    if (row === 'missing') throw notFound()
    return toWebhook(row)
  },

  async deleteWebhook (request, reply) {
    if (!await webhooks.remove(request.db, request.user.id, request.params.webhook_id)) throw notFound()
    return await reply.code(204).send()
  },

  async listWebhookDeliveries (request) {
    const userId = request.user.id
    const webhookId = request.params.webhook_id
    if (await webhooks.findById(request.db, userId, webhookId) === undefined) throw notFound()
    const rows = await webhooks.listAttempts(request.db, userId, webhookId)
    return { items: rows.map(toWebhookDelivery) }
  }
}
