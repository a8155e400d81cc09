/**
 * Webhook deliveries run as graphile-worker jobs (src/jobs/queue.ts; the schema
 * `graphile_worker` is installed by src/database/migrate.ts before these migrations).
 * - webhook_deliveries stays the record of each delivery still owed (attempts made, when the
 *   next is due); the queue's job only says "make the next attempt of this delivery now".
 *   The events trigger adds both in the changing transaction: a rolled-back change leaves
 *   neither. A retry is the same job key added again with its time, in the transaction that
 *   records the failed attempt. A job whose delivery row is gone (made, cancelled, its
 *   webhook deleted) does nothing.
 * - schedule_webhook_delivery(user, webhook, seq, run_at): graphile-worker's add_job writes
 *   tables only their owner may (row-level security with no policy), so the service's role
 *   reaches it through this SECURITY DEFINER function (pg_catalog only). It enqueues only a
 *   delivery that is owed (its row exists); the job names ids alone, and the worker reads
 *   everything else as the delivery's user.
 * - The lease of the former claim loop (claim_webhook_deliveries, locked_until) goes.
 * - job_queue_workers: each service process's worker pool id and when it last said it was
 *   alive; another process unlocks the jobs of a pool that went silent (graphile-worker itself
 *   would only after four hours). Only the owner's connection (the queue's) uses it.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  const table = (name: string): ReturnType<typeof sql.id> => sql.id(schema, name)

  await sql`
    CREATE FUNCTION schedule_webhook_delivery(owner text, webhook uuid, event bigint, due timestamptz) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
      IF NOT EXISTS (
        SELECT FROM ${table('webhook_deliveries')} d WHERE d.user_id = owner AND d.webhook_id = webhook AND d.event_seq = event
      ) THEN
        RAISE EXCEPTION 'no delivery of event % to webhook % is owed', event, webhook;
      END IF;
      PERFORM graphile_worker.add_job(
        'deliver_webhook',
        json_build_object('user_id', owner, 'webhook_id', webhook, 'event_seq', event::text),
        run_at := due,
        max_attempts := 10,
        job_key := 'webhook-delivery:' || webhook || ':' || event
      );
    END
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION schedule_webhook_delivery(text, uuid, bigint, timestamptz) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION schedule_webhook_delivery(text, uuid, bigint, timestamptz) TO todo_app`.execute(db)

  // Runs with the writer's rights, as before; the rows it queues are the ones it schedules.
  await sql`
    CREATE OR REPLACE FUNCTION enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      queued record;
    BEGIN
      FOR queued IN
        INSERT INTO ${table('webhook_deliveries')} (user_id, webhook_id, event_seq, run_at)
        SELECT NEW.user_id, w.id, NEW.seq, now() FROM ${table('webhooks')} w
        WHERE w.user_id = NEW.user_id AND w.enabled AND w.events && ARRAY[NEW.type, '*']
        RETURNING user_id, webhook_id, event_seq, run_at
      LOOP
        PERFORM ${sql.id(schema, 'schedule_webhook_delivery')}(queued.user_id, queued.webhook_id, queued.event_seq, queued.run_at);
      END LOOP;
      RETURN NULL;
    END
    $$
  `.execute(db)

  await sql`DROP FUNCTION claim_webhook_deliveries(interval, integer)`.execute(db)
  await sql`DROP INDEX webhook_deliveries_due_idx`.execute(db)
  await sql`ALTER TABLE webhook_deliveries DROP COLUMN locked_until`.execute(db)

  await sql`
    CREATE TABLE job_queue_workers (
      pool_id text PRIMARY KEY,
      seen_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  const table = (name: string): ReturnType<typeof sql.id> => sql.id(schema, name)
  await sql`DROP TABLE job_queue_workers`.execute(db)
  await sql`ALTER TABLE webhook_deliveries ADD COLUMN locked_until timestamptz(3)`.execute(db)
  await sql`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (run_at)`.execute(db)
  await sql`
    CREATE FUNCTION claim_webhook_deliveries(lease interval, batch integer)
    RETURNS TABLE (user_id text, webhook_id uuid, event_seq bigint, attempts integer)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      WITH due AS (
        SELECT d.user_id, d.webhook_id, d.event_seq FROM ${table('webhook_deliveries')} d
        WHERE d.run_at <= now() AND (d.locked_until IS NULL OR d.locked_until <= now())
        ORDER BY d.run_at
        LIMIT batch
        FOR UPDATE SKIP LOCKED
      )
      UPDATE ${table('webhook_deliveries')} d SET locked_until = now() + lease
      FROM due WHERE d.user_id = due.user_id AND d.webhook_id = due.webhook_id AND d.event_seq = due.event_seq
      RETURNING d.user_id, d.webhook_id, d.event_seq, d.attempts
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION claim_webhook_deliveries(interval, integer) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION claim_webhook_deliveries(interval, integer) TO todo_app`.execute(db)
  await sql`
    CREATE OR REPLACE FUNCTION enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${table('webhook_deliveries')} (user_id, webhook_id, event_seq, run_at)
      SELECT NEW.user_id, w.id, NEW.seq, now() FROM ${table('webhooks')} w
      WHERE w.user_id = NEW.user_id AND w.enabled AND w.events && ARRAY[NEW.type, '*'];
      RETURN NULL;
    END
    $$
  `.execute(db)
  await sql`DROP FUNCTION schedule_webhook_delivery(text, uuid, bigint, timestamptz)`.execute(db)
}
