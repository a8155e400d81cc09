/**
 * Webhook delivery (API.md, Webhooks), in every service process by default: a loop that
 * leases due deliveries from the queue in PostgreSQL (repositories/webhooks.ts `claimDue`:
 * FOR UPDATE SKIP LOCKED and a lease, so any number of processes share the queue and a
 * delivery is made by one of them at a time), makes each attempt (webhook-sender.ts) and
 * records it with what follows: done, a retry `retryDelaysS[n - 1]` seconds after the end
 * of attempt n, or the webhook disabled after the last retry or `failureWindowS` of failures.
 * The queue is filled by a trigger in the changing transaction, so nothing committed is
 * lost and nothing rolled back is sent; a process that dies mid-attempt leaves its lease to
 * run out, and the attempt is made again (at least once). The queue is polled every
 * `pollIntervalMs` (one index probe when nothing is due), which bounds the delay from a
 * commit to its first attempt.
 * Adds `app.checkWebhookTarget(url)` (the save-time check of the same rules) and
 * `app.deliverWebhooks()` (one round now). Started when the app is ready; on close no new
 * attempt starts, attempts in flight are cut short and their leases released (the delivery
 * is made again at once, by another process or after a restart).
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
  /** WEBHOOK_DELIVERY_CONCURRENCY: attempts in flight at once in this process (0: none). */
  concurrency: number
  pollIntervalMs?: number
  /** API.md: 3 days of failures disable a webhook. */
  failureWindowS?: number
  /** How long a claimed delivery is this process's (more than an attempt's 10 s). */
  leaseSeconds?: number
  limits?: SendLimits
  /** Host name resolution (tests resolve names to 127.0.0.1 or to a public address). */
  resolve?: ResolveHost
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Why this URL may not be a webhook's (for a 400 on /url), or null when it may. */
    checkWebhookTarget: (url: string) => Promise<string | null>
    /** Claims what is due now and makes those attempts; resolves to how many it made. */
    deliverWebhooks: () => Promise<number>
  }
}

const THREE_DAYS_S = 3 * 24 * 3600

const webhookJobs: FastifyPluginAsync<WebhookJobOptions> = async (app, options) => {
  const {
    retryDelaysS, allowPrivateTargets, concurrency, pollIntervalMs = 1000, failureWindowS = THREE_DAYS_S,
    leaseSeconds = 60, limits = DEFAULT_LIMITS, resolve = systemResolver
  } = options
  const policy = { allowPrivate: allowPrivateTargets, resolve }
  const retry = { delaysS: retryDelaysS, failureWindowS }
  const closing = new AbortController()
  const inFlight = new Set<Promise<void>>()

  app.decorate('checkWebhookTarget', async (url: string) => {
    const target = await checkTarget(url, policy)
    return target.ok ? null : target.reason
  })

  async function attempt (job: webhooks.ClaimedDelivery): Promise<void> {
    const { user_id: userId, webhook_id: webhookId, event_seq: eventSeq } = job
    const db = app.database.forUser(userId)
    const webhook = await webhooks.findById(db, userId, webhookId)
    const row = await events.findBySeq(db, userId, eventSeq)
    // Deleted or disabled since it was queued (their queue rows go with them; this one was
    // claimed first), or the event expired: nothing to send.
    if (webhook === undefined || !webhook.enabled || row === undefined) {
      if (webhook !== undefined) await webhooks.dequeue(db, userId, webhookId, eventSeq)
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
        signal: closing.signal
      }, limits)
    } else {
      outcome = { statusCode: null, error: target.error === 'invalid-url' ? 'refused-address' : target.error }
    }
    if (outcome.error === 'aborted') {
      await webhooks.release(db, userId, webhookId, eventSeq)
      return
    }
    const statusCode = outcome.statusCode
    const result = await webhooks.recordAttempt(db, userId, webhookId, {
      eventSeq,
      attempt: job.attempts + 1,
      startedAt,
      statusCode,
      error: outcome.error,
      durationMs: Math.round(performance.now() - started),
      delivered: statusCode !== null && statusCode >= 200 && statusCode < 300
    }, retry)
    if (result === 'disabled') app.log.warn({ webhook_id: webhookId, user_id: userId }, 'webhook disabled after failed deliveries')
  }

  async function deliverWebhooks (): Promise<number> {
    const room = concurrency - inFlight.size
    if (room <= 0 || closing.signal.aborted) return 0
    const jobs = await webhooks.claimDue(app.database.db, leaseSeconds, room)
    for (const job of jobs) {
      const running = attempt(job)
        .catch((error: unknown) => { app.log.warn({ err: error, webhook_id: job.webhook_id }, 'webhook delivery failed; made again when its lease ends') })
        .finally(() => { inFlight.delete(running) })
      inFlight.add(running)
    }
    return jobs.length
  }
  app.decorate('deliverWebhooks', async () => {
    const claimed = await deliverWebhooks()
    await Promise.all([...inFlight])
    return claimed
  })

  if (concurrency === 0) return
  let timer: NodeJS.Timeout | undefined
  const poll = (): void => {
    deliverWebhooks()
      .catch((error: unknown) => { app.log.warn({ err: error }, 'webhook queue poll failed; retried at the next interval') })
      .finally(() => {
        if (!closing.signal.aborted) {
          timer = setTimeout(poll, pollIntervalMs)
          timer.unref()
        }
      })
  }
  app.addHook('onReady', async () => { poll() })
  app.addHook('onClose', async () => {
    closing.abort()
    clearTimeout(timer)
    await Promise.all([...inFlight])
  })
}

export default fp(webhookJobs, { name: 'webhook-jobs', dependencies: ['database'] })
