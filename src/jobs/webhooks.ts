/**
 * Webhook delivery (API.md, Webhooks): the `deliver_webhook` task of the job queue
 * (queue.ts). A change's transaction owes a delivery to each matching webhook (a row of
 * webhook_deliveries) and adds its job (db/migrations/202611281600_job_queue.ts), so nothing
 * committed is lost and nothing rolled back is sent. The job makes the next attempt
 * (webhook-sender.ts) and records it with what follows: done, a retry `retryDelaysS[n - 1]`
 * seconds after the end of attempt n (the same job added again, due then, in the recording
 * transaction), or the webhook disabled after the last retry or `failureWindowS` of failures.
 * A job whose delivery is no longer owed does nothing, so a job run twice (its process died
 * after the attempt) makes at most one attempt more: at least once.
 * Adds `app.checkWebhookTarget(url)` (the save-time check of the same rules). When the service
 * closes, an attempt in flight is cut short and its job fails, to run again in another
 * process or after the restart.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { toEvent } from '../domain/events.js'
import { webhookSignature } from '../domain/webhooks.js'
import * as events from '../repositories/events.js'
import * as webhooks from '../repositories/webhooks.js'
import { DEFAULT_LIMITS, send, type SendLimits } from './webhook-sender.js'
import { checkTarget, type ResolveHost, systemResolver } from './webhook-targets.js'

export interface WebhookJobOptions {
  /** WEBHOOK_RETRY_DELAYS_S. */
  retryDelaysS: readonly number[]
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS. */
  allowPrivateTargets: boolean
  /** API.md: 3 days of failures disable a webhook. */
  failureWindowS?: number
  limits?: SendLimits
  /** Host name resolution (tests resolve names to 127.0.0.1 or to a public address). */
  resolve?: ResolveHost
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Why this URL may not be a webhook's (for a 400 on /url), or null when it may. */
    checkWebhookTarget: (url: string) => Promise<string | null>
  }
}

const THREE_DAYS_S = 3 * 24 * 3600

/** What schedule_webhook_delivery puts in a job: the delivery's identity, nothing else. */
interface DeliveryJob {
  user_id: string
  webhook_id: string
  event_seq: string
}

const webhookJobs: FastifyPluginAsync<WebhookJobOptions> = async (app, options) => {
  const { retryDelaysS, allowPrivateTargets, failureWindowS = THREE_DAYS_S, limits = DEFAULT_LIMITS, resolve = systemResolver } = options
  const policy = { allowPrivate: allowPrivateTargets, resolve }
  const retry = { delaysS: retryDelaysS, failureWindowS }
  const closing = new AbortController()

  app.decorate('checkWebhookTarget', async (url: string) => {
    const target = await checkTarget(url, policy)
    return target.ok ? null : target.reason
  })

  async function attempt (job: DeliveryJob, signal: AbortSignal): Promise<void> {
    const { user_id: userId, webhook_id: webhookId, event_seq: eventSeq } = job
    const db = app.database.forUser(userId)
    const owed = await webhooks.findDelivery(db, userId, webhookId, eventSeq)
    // Made, cancelled, or its webhook deleted since the job was added: nothing to do.
    if (owed === undefined) return
    const webhook = await webhooks.findById(db, userId, webhookId)
    const row = await events.findBySeq(db, userId, eventSeq)
    // Disabled since it was queued, or the event expired: nothing to send.
    if (webhook === undefined || !webhook.enabled || row === undefined) {
      await webhooks.dequeue(db, userId, webhookId, eventSeq)
      return
    }
    const event = toEvent(row)
    const body = JSON.stringify(event)
    const startedAt = new Date()
    const started = performance.now()
    const target = await checkTarget(webhook.url, policy)
    let outcome: { statusCode: number | null, error: string | null }
    if (target.ok) {
      const timestamp = Math.floor(Date.now() / 1000)
      outcome = await send({
        url: target.url,
        addresses: target.addresses,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'todo-contract-webhooks/1',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(webhook.secret, event.id, timestamp, body)
        },
        body,
        signal
      }, limits)
    } else {
      outcome = { statusCode: null, error: target.error === 'invalid-url' ? 'refused-address' : target.error }
    }
    // The service is closing: the job fails, and runs again (here after a restart, or elsewhere).
    if (outcome.error === 'aborted') throw new Error('webhook attempt cut short by shutdown')
    const statusCode = outcome.statusCode
    const result = await webhooks.recordAttempt(db, userId, webhookId, {
      eventSeq,
      attempt: owed.attempts + 1,
      startedAt,
      statusCode,
      error: outcome.error,
      durationMs: Math.round(performance.now() - started),
      delivered: statusCode !== null && statusCode >= 200 && statusCode < 300
    }, retry)
    if (result === 'disabled') app.log.warn({ webhook_id: webhookId, user_id: userId }, 'webhook disabled after failed deliveries')
  }

  app.jobQueue.define('deliver_webhook', async (payload, helpers) => {
    await attempt(payload as DeliveryJob, AbortSignal.any([closing.signal, helpers.abortSignal]))
  })
  // Before the queue stops (onClose): it would otherwise wait for attempts in flight.
  app.addHook('preClose', async () => { closing.abort() })
}

export default fp(webhookJobs, { name: 'webhook-jobs', dependencies: ['database', 'job-queue'] })
