/**
 * Webhooks as the API shows them, and their Standard Webhooks signature (API.md, Webhooks):
 * `v1,` + base64 HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the bytes that the
 * secret's base64 after `whsec_` decodes to. Pure.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { components } from '../contract/index.js'
import type { WebhookAttemptRow, WebhookRow } from '../database/types.js'
import { eventId } from './events.js'

type Schemas = components['schemas']
export type Webhook = Schemas['Webhook']
export type WebhookDelivery = Schemas['WebhookDelivery']

export const SECRET_PREFIX = 'whsec_'

/** A new signing secret (Standard Webhooks): `whsec_` and the base64 of 24 random bytes (192 bits). */
export const newSecret = (): string => SECRET_PREFIX + randomBytes(24).toString('base64')

export function toWebhook (row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: row.events as Webhook['events'],
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    created_at: row.created_at
  }
}

export function toWebhookDelivery (row: WebhookAttemptRow): WebhookDelivery {
  return {
    event_id: eventId(row.event_seq),
    attempt: row.attempt,
    status_code: row.status_code,
    error: row.error,
    duration_ms: row.duration_ms,
    next_attempt_at: row.next_attempt_at
  }
}

/** The `webhook-signature` value for one delivery attempt. */
export function webhookSignature (secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
}

/** Event types in the order given, once each (a subscription to `*` is to every type). */
export function normalizeEventTypes (types: readonly string[]): string[] {
  return types.includes('*') ? ['*'] : [...new Set(types)]
}
