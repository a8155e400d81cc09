/**
 * Firing reminders (API.md "Reminders"; db/migrations/202611282000_reminders.ts). Every
 * statement is scoped by the owner's id (second argument, always).
 */
import { type Kysely, sql } from 'kysely'
import { atomically } from '../database/transactions.js'
import type { Database } from '../database/types.js'
import { lockChangeCounter } from './events.js'

/** How long after its time a reminder still fires (API.md: more than 24 hours late, it is dropped). */
export const DROP_AFTER = '24 hours'
/** Later than this after its time, a reminder fires `late` (API.md). */
export const LATE_AFTER = '5 seconds'

/**
 * Fires the task's reminder `slot` for `scheduledFor`, once: when the task still has that
 * reminder due at that time (not completed, not trashed, not changed since), it records the
 * firing and writes its `reminder.fired` event, together. Returns whether it fired now
 * (false: no longer due, fired already, or dropped as too late).
 */
export async function fire (db: Kysely<Database>, userId: string, taskId: string, slot: number, scheduledFor: string): Promise<boolean> {
  return await atomically(db, async (trx) => {
    // The user's change counter before the task's row (the change record's lock order): a
    // write of the same task holds the counter and waits for the row otherwise.
    await lockChangeCounter(trx, userId)
    const { rows } = await sql<{ seq: string }>`
      WITH task AS (
        SELECT t.* FROM tasks t
        WHERE t.user_id = ${userId} AND t.id = ${taskId}::uuid AND t.deleted_at IS NULL AND NOT t.completed
          AND reminder_time(t.reminders -> ${slot}::integer, t.due_effective) = ${scheduledFor}::timestamptz
        FOR UPDATE
      ), fired AS (
        INSERT INTO reminder_firings (user_id, task_id, reminder, scheduled_for)
        SELECT user_id, id, ${slot}::integer, ${scheduledFor}::timestamptz FROM task
        WHERE now() - ${scheduledFor}::timestamptz <= ${DROP_AFTER}::interval
        ON CONFLICT DO NOTHING
        RETURNING 1
      )
      INSERT INTO events (user_id, seq, type, entity_id, data)
      SELECT t.user_id, next_change_seq(t.user_id), 'reminder.fired', t.id, jsonb_build_object(
        'task', to_jsonb(t) - ARRAY['user_id', 'search', 'priority_rank', 'title_sort', 'change_seq', 'due_effective', 'recurrence_start_at', 'recurrence_start_date'],
        'scheduled_for', ${scheduledFor}::timestamptz,
        'late', now() - ${scheduledFor}::timestamptz > ${LATE_AFTER}::interval
      )
      FROM task t, fired
      RETURNING seq::text AS seq
    `.execute(trx)
    // The number taken, written back to the user's counter (the change record's rule).
    if (rows.length > 0) await sql`SELECT save_change_seq()`.execute(trx)
    return rows.length > 0
  })
}
