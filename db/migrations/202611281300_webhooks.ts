/**
 * Webhooks (API.md part two, "Events", Webhooks): the subscriptions, the durable delivery
 * queue and the delivery log.
 * - webhooks: a user's subscriptions (at most 10, enforced by the service). `secret` is kept
 *   as given to the user (`whsec_…`): deliveries must sign with it. `failing_since` is when
 *   the current run of failed attempts began (null after a success): 3 days of it disables.
 * - webhook_deliveries: the queue, one row per (webhook, event) still to be delivered.
 *   `attempts` made so far, `run_at` when the next one is due, `locked_until` the lease of
 *   the process making it (a process that dies mid-attempt loses its lease, and the attempt
 *   is made again). A delivered, abandoned or cancelled delivery's row is deleted.
 * - webhook_attempts: every attempt, for listWebhookDeliveries.
 * Enqueueing is transactional: an AFTER INSERT trigger on events adds a row for every
 *   enabled webhook of the event's user that takes its type, in the transaction that wrote
 *   the change; a rolled-back change leaves no row. With no enabled webhook the trigger
 *   costs one probe of a partial index that holds only enabled webhooks.
 * claim_webhook_deliveries(lease, batch) leases the due rows of every user (the delivery
 *   worker names no user: SECURITY DEFINER, pg_catalog only, only todo_app may call it);
 *   everything else the worker does, it does as the row's user.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  const table = (name: string): ReturnType<typeof sql.id> => sql.id(schema, name)

  await sql`
    CREATE TABLE webhooks (
      user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      id uuid NOT NULL DEFAULT gen_random_uuid(),
      url text NOT NULL,
      events text[] NOT NULL,
      description text,
      secret text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      failing_since timestamptz(3),
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, id)
    )
  `.execute(db)
  // What the events trigger probes on every change: only enabled webhooks are in it.
  await sql`CREATE INDEX webhooks_enabled_idx ON webhooks (user_id) WHERE enabled`.execute(db)

  await sql`
    CREATE TABLE webhook_deliveries (
      user_id text NOT NULL,
      webhook_id uuid NOT NULL,
      event_seq bigint NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      run_at timestamptz(3) NOT NULL,
      locked_until timestamptz(3),
      PRIMARY KEY (user_id, webhook_id, event_seq),
      FOREIGN KEY (user_id, webhook_id) REFERENCES webhooks (user_id, id) ON DELETE CASCADE
    )
  `.execute(db)
  await sql`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (run_at)`.execute(db)

  await sql`
    CREATE TABLE webhook_attempts (
      user_id text NOT NULL,
      webhook_id uuid NOT NULL,
      event_seq bigint NOT NULL,
      attempt integer NOT NULL,
      started_at timestamptz(3) NOT NULL,
      status_code integer,
      error text,
      duration_ms integer NOT NULL,
      next_attempt_at timestamptz(3),
      PRIMARY KEY (user_id, webhook_id, event_seq, attempt),
      FOREIGN KEY (user_id, webhook_id) REFERENCES webhooks (user_id, id) ON DELETE CASCADE
    )
  `.execute(db)
  await sql`CREATE INDEX webhook_attempts_recent_idx ON webhook_attempts (user_id, webhook_id, started_at DESC, attempt DESC)`.execute(db)

  // Runs with the writer's rights (todo_app under row-level security, for the user the
  // statement names), so the policies below admit exactly the event's user's rows.
  await sql`
    CREATE FUNCTION enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${table('webhook_deliveries')} (user_id, webhook_id, event_seq, run_at)
      SELECT NEW.user_id, w.id, NEW.seq, now() FROM ${table('webhooks')} w
      WHERE w.user_id = NEW.user_id AND w.enabled AND w.events && ARRAY[NEW.type, '*'];
      RETURN NULL;
    END
    $$
  `.execute(db)
  await sql`
    CREATE TRIGGER events_enqueue_webhook_deliveries AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION enqueue_webhook_deliveries()
  `.execute(db)

  // Due rows whose lease is free, oldest first, skipping rows another process is claiming.
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

  for (const name of ['webhooks', 'webhook_deliveries', 'webhook_attempts']) {
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${sql.table(name)} TO todo_app`.execute(db)
    await sql`ALTER TABLE ${sql.table(name)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`
      CREATE POLICY ${sql.id(`${name}_of_current_user`)} ON ${sql.table(name)}
      USING (user_id = current_setting('app.user_id', true))
      WITH CHECK (user_id = current_setting('app.user_id', true))
    `.execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER events_enqueue_webhook_deliveries ON events`.execute(db)
  await sql`DROP FUNCTION enqueue_webhook_deliveries(), claim_webhook_deliveries(interval, integer)`.execute(db)
  await sql`DROP TABLE webhook_attempts, webhook_deliveries, webhooks`.execute(db)
}
