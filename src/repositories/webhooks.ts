/**
 * Webhooks, their delivery queue and delivery log (db/migrations/202611281300_webhooks.ts).
 * Every statement is scoped by the owner's id, which comes second in every signature. A miss
 * is a returned value. Deliveries are owed (and their jobs added) by a trigger on events, in
 * the changing transaction (db/migrations/202611281600_job_queue.ts); they are never written
 * here on the write path.
 */
import { type Kysely, sql } from 'kysely'
import { atomically } from '../database/transactions.js'
import type { Database, WebhookAttemptRow, WebhookRow } from '../database/types.js'
import * as events from './events.js'

export type Missing = 'missing'
/** The user has as many webhooks as allowed already. */
export type LimitReached = 'limit'

/** API.md: at most 10 webhooks per user. */
export const MAX_WEBHOOKS_PER_USER = 10
/** API.md: listWebhookDeliveries answers the last 100 attempts; older ones are not kept. */
export const ATTEMPTS_KEPT = 100

/** Oldest first. */
export async function list (db: Kysely<Database>, userId: string): Promise<WebhookRow[]> {
  return await db.selectFrom('webhooks').selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at').orderBy('id')
    .execute()
}

export async function findById (db: Kysely<Database>, userId: string, webhookId: string): Promise<WebhookRow | undefined> {
  return await db.selectFrom('webhooks').selectAll()
    .where('user_id', '=', userId).where('id', '=', webhookId)
    .executeTakeFirst()
}

export interface WebhookInput {
  url: string
  events: string[]
  description: string | null
  secret: string
}

/**
 * 'limit' when the user has MAX_WEBHOOKS_PER_USER webhooks already. The count and the insert
 * are one statement; two creations racing for the last place can both succeed.
 */
export async function insert (db: Kysely<Database>, userId: string, input: WebhookInput): Promise<WebhookRow | LimitReached> {
  return await atomically(db, async (trx) => {
    // Two creations at once must not both take the last place: the user's change counter
    // (events.lockChangeCounter) makes them one after the other, and the count below, a new
    // statement, sees what the first committed.
    await events.lockChangeCounter(trx, userId)
    const { rows } = await sql<WebhookRow>`
      INSERT INTO webhooks (user_id, url, events, description, secret)
      SELECT ${userId}, ${input.url}, ${input.events}::text[], ${input.description}, ${input.secret}
      WHERE (SELECT count(*) FROM webhooks WHERE user_id = ${userId}) < ${MAX_WEBHOOKS_PER_USER}
      RETURNING *
    `.execute(trx)
    return rows[0] ?? 'limit'
  })
}

export interface WebhookChanges {
  url?: string
  events?: string[]
  description?: string | null
  enabled?: boolean
}

/**
 * Applies a patch. Disabling (by the user) clears the reason and, in the same statement,
 * cancels what is pending: the queued deliveries go and no attempt keeps a next_attempt_at.
 * Enabling clears a reason the service gave and the failure run.
 */
export async function update (db: Kysely<Database>, userId: string, webhookId: string, changes: WebhookChanges): Promise<WebhookRow | Missing> {
  const sets = [sql`updated_at = now()`]
  if (changes.url !== undefined) sets.push(sql`url = ${changes.url}`)
  if (changes.events !== undefined) sets.push(sql`events = ${changes.events}::text[]`)
  if (changes.description !== undefined) sets.push(sql`description = ${changes.description}`)
  if (changes.enabled !== undefined) sets.push(sql`enabled = ${changes.enabled}`, sql`disabled_reason = NULL`, sql`failing_since = NULL`)
  const { rows } = await sql<WebhookRow>`
    WITH changed AS (
      UPDATE webhooks SET ${sql.join(sets)}
      WHERE user_id = ${userId} AND id = ${webhookId}
      RETURNING *
    ), dequeued AS (
      DELETE FROM webhook_deliveries d USING changed w
      WHERE NOT w.enabled AND d.user_id = w.user_id AND d.webhook_id = w.id
    ), unscheduled AS (
      -- The attempts whose retry is still queued (the latest of each queued event): earlier
      -- attempts keep the time their retry was made at.
      UPDATE webhook_attempts a SET next_attempt_at = NULL FROM changed w, webhook_deliveries d
      WHERE NOT w.enabled AND d.user_id = w.user_id AND d.webhook_id = w.id
        AND a.user_id = d.user_id AND a.webhook_id = d.webhook_id AND a.event_seq = d.event_seq AND a.attempt = d.attempts
    )
    SELECT * FROM changed
  `.execute(db)
  return rows[0] ?? 'missing'
}

/** false when there was no such webhook. Its queued deliveries and log go with it. */
export async function remove (db: Kysely<Database>, userId: string, webhookId: string): Promise<boolean> {
  const result = await db.deleteFrom('webhooks')
    .where('user_id', '=', userId).where('id', '=', webhookId)
    .executeTakeFirst()
  return result.numDeletedRows > 0n
}

/** The webhook's last ATTEMPTS_KEPT attempts, newest (by start) first. */
export async function listAttempts (db: Kysely<Database>, userId: string, webhookId: string): Promise<WebhookAttemptRow[]> {
  return await db.selectFrom('webhook_attempts').selectAll()
    .where('user_id', '=', userId).where('webhook_id', '=', webhookId)
    .orderBy('started_at', 'desc').orderBy('attempt', 'desc')
    .limit(ATTEMPTS_KEPT)
    .execute()
}

/** A delivery the worker holds the lease of. */
/** A delivery still owed: the attempts made so far. */
export async function findDelivery (db: Kysely<Database>, userId: string, webhookId: string, eventSeq: string): Promise<{ attempts: number } | undefined> {
  return await db.selectFrom('webhook_deliveries').select('attempts')
    .where('user_id', '=', userId).where('webhook_id', '=', webhookId).where('event_seq', '=', eventSeq)
    .executeTakeFirst()
}

/** Drops a queued delivery that cannot be made (its event expired). */
export async function dequeue (db: Kysely<Database>, userId: string, webhookId: string, eventSeq: string): Promise<void> {
  await db.deleteFrom('webhook_deliveries')
    .where('user_id', '=', userId).where('webhook_id', '=', webhookId).where('event_seq', '=', eventSeq)
    .execute()
}

export interface AttemptRecord {
  eventSeq: string
  /** 1-based. */
  attempt: number
  startedAt: Date
  statusCode: number | null
  error: string | null
  durationMs: number
  /** A 2xx arrived. */
  delivered: boolean
}

export interface RetryPolicy {
  /** WEBHOOK_RETRY_DELAYS_S: the delay before attempt n + 1 is delaysS[n - 1]. */
  delaysS: readonly number[]
  /** Failures for this long (since the first of an unbroken run) disable the webhook. */
  failureWindowS: number
}

export type AttemptResult = 'delivered' | 'retry' | 'disabled' | 'cancelled'

/**
 * Records an attempt and what follows it, in one transaction holding the webhook's row (so a
 * PATCH or DELETE at the same time is either before it, and then cancels it, or after it):
 * - delivered: the queued delivery goes, the failure run ends;
 * - failed, with a retry left and the failure run under failureWindowS: the delivery is due
 *   again its delay after now (the end of the attempt), and the attempt says when;
 * - failed otherwise: the webhook is disabled with a reason, and every delivery queued for it
 *   is cancelled;
 * - the webhook was disabled or deleted meanwhile ('cancelled'): nothing is scheduled.
 */
export async function recordAttempt (db: Kysely<Database>, userId: string, webhookId: string, record: AttemptRecord, policy: RetryPolicy): Promise<AttemptResult> {
  return await atomically(db, async (trx) => {
    const { rows: [webhook] } = await sql<{ enabled: boolean, failing_since: string | null, window_over: boolean }>`
      SELECT enabled, failing_since,
        coalesce(failing_since <= now() - ${policy.failureWindowS} * interval '1 second', false) AS window_over
      FROM webhooks WHERE user_id = ${userId} AND id = ${webhookId}
      FOR UPDATE
    `.execute(trx)
    if (webhook === undefined) return 'cancelled'
    const key = { user_id: userId, webhook_id: webhookId, event_seq: record.eventSeq }
    const log = async (nextAttemptAt: ReturnType<typeof sql> | null): Promise<void> => {
      await sql`
        INSERT INTO webhook_attempts (user_id, webhook_id, event_seq, attempt, started_at, status_code, error, duration_ms, next_attempt_at)
        VALUES (${userId}, ${webhookId}, ${record.eventSeq}::bigint, ${record.attempt}, ${record.startedAt.toISOString()}::timestamptz,
                ${record.statusCode}, ${record.error}, ${record.durationMs}, ${nextAttemptAt ?? null})
        ON CONFLICT (user_id, webhook_id, event_seq, attempt) DO UPDATE
        SET started_at = EXCLUDED.started_at, status_code = EXCLUDED.status_code, error = EXCLUDED.error,
            duration_ms = EXCLUDED.duration_ms, next_attempt_at = EXCLUDED.next_attempt_at
      `.execute(trx)
      await trimAttempts(trx, userId, webhookId)
    }
    const dequeue = async (): Promise<void> => {
      await trx.deleteFrom('webhook_deliveries').where('user_id', '=', userId).where('webhook_id', '=', webhookId).where('event_seq', '=', key.event_seq).execute()
    }

    if (record.delivered) {
      await dequeue()
      await trx.updateTable('webhooks').set({ failing_since: null }).where('user_id', '=', userId).where('id', '=', webhookId).where('failing_since', 'is not', null).execute()
      await log(null)
      return 'delivered'
    }
    if (!webhook.enabled) {
      await dequeue()
      await log(null)
      return 'cancelled'
    }
    const delay = policy.delaysS[record.attempt - 1]
    if (delay === undefined || webhook.window_over) {
      const reason = delay === undefined
        ? `${record.attempt} attempts to deliver event ${record.eventSeq.padStart(20, '0')} failed (the last: ${describe(record)})`
        : `deliveries failed for ${Math.round(policy.failureWindowS / 3600)} hours (the last: ${describe(record)})`
      await log(null)
      // Other events' retries still queued are cancelled too (their latest attempt says so).
      await sql`
        WITH disabled AS (
          UPDATE webhooks SET enabled = false, disabled_reason = ${reason}, failing_since = NULL, updated_at = now()
          WHERE user_id = ${userId} AND id = ${webhookId}
        ), dequeued AS (
          DELETE FROM webhook_deliveries WHERE user_id = ${userId} AND webhook_id = ${webhookId}
        )
        UPDATE webhook_attempts a SET next_attempt_at = NULL FROM webhook_deliveries d
        WHERE d.user_id = ${userId} AND d.webhook_id = ${webhookId} AND d.event_seq <> ${record.eventSeq}::bigint
          AND a.user_id = d.user_id AND a.webhook_id = d.webhook_id AND a.event_seq = d.event_seq AND a.attempt = d.attempts
      `.execute(trx)
      return 'disabled'
    }
    // The job that makes the next attempt is added in this transaction: a retry is owed and
    // scheduled together, or neither.
    const { rows: [due] } = await sql<{ run_at: string }>`
      WITH due AS (
        UPDATE webhook_deliveries SET attempts = ${record.attempt}, run_at = now() + ${delay} * interval '1 second'
        WHERE user_id = ${userId} AND webhook_id = ${webhookId} AND event_seq = ${record.eventSeq}::bigint
        RETURNING user_id, webhook_id, event_seq, run_at
      )
      SELECT run_at, schedule_webhook_delivery(user_id, webhook_id, event_seq, run_at) FROM due
    `.execute(trx)
    await trx.updateTable('webhooks').set({ failing_since: sql`coalesce(failing_since, ${record.startedAt.toISOString()}::timestamptz)` })
      .where('user_id', '=', userId).where('id', '=', webhookId).execute()
    await log(due === undefined ? null : sql`${due.run_at}::timestamptz`)
    return due === undefined ? 'cancelled' : 'retry'
  })
}

function describe (record: AttemptRecord): string {
  return record.statusCode === null ? (record.error ?? 'no answer') : `HTTP ${record.statusCode}`
}

/** Keeps the newest ATTEMPTS_KEPT attempts of a webhook: an index range scan from the newest. */
async function trimAttempts (db: Kysely<Database>, userId: string, webhookId: string): Promise<void> {
  await sql`
    DELETE FROM webhook_attempts a USING (
      SELECT event_seq, attempt FROM webhook_attempts
      WHERE user_id = ${userId} AND webhook_id = ${webhookId}
      ORDER BY started_at DESC, attempt DESC
      OFFSET ${ATTEMPTS_KEPT}
    ) AS old
    WHERE a.user_id = ${userId} AND a.webhook_id = ${webhookId} AND a.event_seq = old.event_seq AND a.attempt = old.attempt
  `.execute(db)
}
