/**
 * The change record (API.md part two, "Incremental sync" and "Events"): one record that
 * orders every change of a user in commit order, for sync and for the event log alike.
 * - change_counters: one row per user, `seq` the number of that user's last change. Every
 *   change takes the next number while holding the row's lock until its transaction ends,
 *   so a user's numbers are given out in commit order: a transaction holding a number
 *   commits before the next number can be taken, and a reader sees a prefix of them.
 * - tasks.change_seq and categories.change_seq: the number of the row's latest change
 *   (unique per user across both tables). Sync reads what changed after a number with one
 *   index range scan per table.
 * - events: one row per change of a task or category (the event log; `seq` is the event's
 *   id), written in the same transaction as the change. Purges and category deletions live
 *   only here: they are sync's tombstones.
 * Numbering. A transaction hands out its user's numbers from a transaction-local setting and
 *   writes the last one back to the counter at the end of each statement (see below).
 * Lock order. Every statement that writes tasks or categories locks its user's counter
 *   before it touches a row (a statement-level BEFORE trigger, for the user the statement
 *   names in `app.user_id`), so two transactions of one user never hold a row each and wait
 *   for the other's counter (a deadlock). Statements that name no user (fixtures, the purge)
 *   take the counter row by row; the purge function takes it first, user by user.
 * Names are schema-qualified in the functions: they also run inside purge_expired_trash,
 *   whose search_path is pg_catalog only.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const schema = (rows[0] as { schema: string }).schema
  const table = (name: string): ReturnType<typeof sql.id> => sql.id(schema, name)

  await sql`
    CREATE TABLE change_counters (
      user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      seq bigint NOT NULL DEFAULT 0
    )
  `.execute(db)
  await sql`
    CREATE TABLE events (
      user_id text NOT NULL,
      seq bigint NOT NULL,
      type text NOT NULL,
      entity_id uuid NOT NULL,
      occurred_at timestamptz(3) NOT NULL DEFAULT now(),
      data jsonb NOT NULL,
      PRIMARY KEY (user_id, seq)
    )
  `.execute(db)
  // No foreign key to users: its check would cost a query for every change. A user's events
  // go with the account's deletion, and with age.
  // Sync's tombstones: the purges and category deletions after a number, and whether a later
  // one of the same entity supersedes one. Few rows: cheap to keep.
  await sql`CREATE INDEX events_deletions_idx ON events (user_id, seq) WHERE type IN ('task.purged', 'category.deleted')`.execute(db)
  await sql`CREATE INDEX events_deleted_entity_idx ON events (user_id, entity_id, seq) WHERE type IN ('task.purged', 'category.deleted')`.execute(db)
  // Expiry by age: rows arrive in time order, so a BRIN index finds old ones at almost no write cost.
  await sql`CREATE INDEX events_occurred_idx ON events USING brin (occurred_at)`.execute(db)

  // Existing rows: numbered per user in the order they last changed, counters set past them.
  await sql`ALTER TABLE tasks ADD COLUMN change_seq bigint`.execute(db)
  await sql`ALTER TABLE categories ADD COLUMN change_seq bigint`.execute(db)
  await sql`
    CREATE TEMPORARY TABLE numbered ON COMMIT DROP AS
    SELECT kind, user_id, id, row_number() OVER (PARTITION BY user_id ORDER BY updated_at, kind, id) AS seq
    FROM (SELECT 'task' AS kind, user_id, id, updated_at FROM tasks
          UNION ALL SELECT 'category', user_id, id, updated_at FROM categories) AS every_row
  `.execute(db)
  await sql`UPDATE tasks t SET change_seq = n.seq FROM numbered n WHERE n.kind = 'task' AND n.user_id = t.user_id AND n.id = t.id`.execute(db)
  await sql`UPDATE categories c SET change_seq = n.seq FROM numbered n WHERE n.kind = 'category' AND n.user_id = c.user_id AND n.id = c.id`.execute(db)
  await sql`
    INSERT INTO change_counters (user_id, seq)
    SELECT u.id, coalesce(max(n.seq), 0) FROM users u LEFT JOIN numbered n ON n.user_id = u.id GROUP BY u.id
  `.execute(db)
  await sql`DROP TABLE numbered`.execute(db)
  for (const name of ['tasks', 'categories']) {
    await sql`ALTER TABLE ${sql.table(name)} ALTER COLUMN change_seq SET NOT NULL`.execute(db)
    await sql`CREATE UNIQUE INDEX ${sql.id(`${name}_user_change_idx`)} ON ${sql.table(name)} (user_id, change_seq)`.execute(db)
  }

  // Numbers are handed out from a transaction-local setting, `app.change_seq` = "<seq>:<user>",
  // for the one user the transaction is numbering, and written back to the counter's row at
  // the end of each statement (save_change_counter below): a counter row updated once per
  // row would grow a chain of row versions that every later update in the transaction walks
  // (quadratic in a bulk statement). At every statement boundary the row and the setting
  // agree, and a rollback to a savepoint reverts both. A statement that changes rows of
  // several users (fixtures, the purge) switches the setting from user to user, writing the
  // previous one's number back first.
  await sql`
    CREATE FUNCTION save_change_seq() RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      cached text := current_setting('app.change_seq', true);
      colon integer;
      taken bigint;
    BEGIN
      IF cached IS NULL OR cached = '' THEN
        RETURN;
      END IF;
      colon := position(':' in cached);
      taken := substr(cached, 1, colon - 1)::bigint;
      UPDATE ${table('change_counters')} SET seq = taken
      WHERE user_id = substr(cached, colon + 1) AND seq <> taken;
    END
    $$
  `.execute(db)

  // Locks a user's counter (making it on their first change) and numbers from it. A
  // transaction that writes several statements takes it first, before any row lock, and
  // before the snapshot of its next statement: that statement then sees every change of the
  // user committed before.
  await sql`
    CREATE FUNCTION lock_change_counter(owner text) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      cached text := current_setting('app.change_seq', true);
      current bigint;
    BEGIN
      IF cached IS NOT NULL AND cached <> '' AND substr(cached, position(':' in cached) + 1) = owner THEN
        RETURN;
      END IF;
      PERFORM ${table('save_change_seq')}();
      SELECT seq INTO current FROM ${table('change_counters')} WHERE user_id = owner FOR UPDATE;
      IF NOT FOUND THEN
        INSERT INTO ${table('change_counters')} (user_id) VALUES (owner) ON CONFLICT (user_id) DO NOTHING;
        SELECT seq INTO current FROM ${table('change_counters')} WHERE user_id = owner FOR UPDATE;
      END IF;
      PERFORM set_config('app.change_seq', current::text || ':' || owner, true);
    END
    $$
  `.execute(db)

  // The next number of a user's changes. Only plain expressions on the common path (the
  // user's counter is held and cached already): PL/pgSQL evaluates them without a query.
  await sql`
    CREATE FUNCTION next_change_seq(owner text) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
      cached text := current_setting('app.change_seq', true);
      colon integer;
      taken bigint;
    BEGIN
      IF cached IS NULL OR cached = '' OR substr(cached, strpos(cached, ':') + 1) <> owner THEN
        PERFORM ${table('lock_change_counter')}(owner);
        cached := current_setting('app.change_seq');
      END IF;
      colon := strpos(cached, ':');
      taken := left(cached, colon - 1)::bigint + 1;
      cached := set_config('app.change_seq', taken::text || substr(cached, colon), true);
      RETURN taken;
    END
    $$
  `.execute(db)

  // Statement-level, before: the counter of the user the statement runs for, before any row.
  await sql`
    CREATE FUNCTION lock_statement_change_counter() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      owner text := current_setting('app.user_id', true);
    BEGIN
      IF owner IS NOT NULL AND owner <> '' THEN
        PERFORM ${table('lock_change_counter')}(owner);
      END IF;
      RETURN NULL;
    END
    $$
  `.execute(db)

  // Statement-level, after: the numbers taken, written back to the counter's row.
  await sql`
    CREATE FUNCTION save_statement_change_counter() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM ${table('save_change_seq')}();
      RETURN NULL;
    END
    $$
  `.execute(db)

  // A task's change: its number, and its event. A write that changes nothing keeps the
  // version (API.md), and is no change. The event's type follows API.md's precedence
  // (trash, completion, move, update); data is the row after the change (the API shape is
  // made from it when read), or its id for a purge.
  await sql`
    CREATE FUNCTION record_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      kind text;
      taken bigint;
    BEGIN
      IF TG_OP = 'DELETE' THEN
        taken := ${table('next_change_seq')}(OLD.user_id);
        INSERT INTO ${table('events')} (user_id, seq, type, entity_id, data)
        VALUES (OLD.user_id, taken, 'task.purged', OLD.id, jsonb_build_object('id', OLD.id));
        RETURN OLD;
      END IF;
      IF TG_OP = 'UPDATE' THEN
        IF NEW.version = OLD.version THEN
          RETURN NEW;
        END IF;
        kind := CASE
          WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'task.deleted'
          WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'task.restored'
          WHEN NEW.completed AND NOT OLD.completed THEN 'task.completed'
          WHEN OLD.completed AND NOT NEW.completed THEN 'task.reopened'
          ELSE 'task.updated'
        END;
      ELSE
        kind := 'task.created';
      END IF;
      taken := ${table('next_change_seq')}(NEW.user_id);
      NEW.change_seq := taken;
      INSERT INTO ${table('events')} (user_id, seq, type, entity_id, data)
      VALUES (NEW.user_id, taken, kind, NEW.id,
              to_jsonb(NEW) - ARRAY['user_id', 'search', 'priority_rank', 'title_sort', 'change_seq']);
      RETURN NEW;
    END
    $$
  `.execute(db)

  await sql`
    CREATE FUNCTION record_category_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      kind text;
      taken bigint;
    BEGIN
      IF TG_OP = 'DELETE' THEN
        taken := ${table('next_change_seq')}(OLD.user_id);
        INSERT INTO ${table('events')} (user_id, seq, type, entity_id, data)
        VALUES (OLD.user_id, taken, 'category.deleted', OLD.id, jsonb_build_object('id', OLD.id));
        RETURN OLD;
      END IF;
      IF TG_OP = 'UPDATE' THEN
        IF (NEW.name, NEW.color) IS NOT DISTINCT FROM (OLD.name, OLD.color) THEN
          RETURN NEW;
        END IF;
        kind := 'category.updated';
      ELSE
        kind := 'category.created';
      END IF;
      taken := ${table('next_change_seq')}(NEW.user_id);
      NEW.change_seq := taken;
      INSERT INTO ${table('events')} (user_id, seq, type, entity_id, data)
      VALUES (NEW.user_id, taken, kind, NEW.id, to_jsonb(NEW) - ARRAY['change_seq']);
      RETURN NEW;
    END
    $$
  `.execute(db)

  for (const [name, record] of [['tasks', 'record_task_change'], ['categories', 'record_category_change']] as const) {
    await sql`
      CREATE TRIGGER ${sql.id(`${name}_lock_change_counter`)} BEFORE INSERT OR UPDATE OR DELETE ON ${sql.table(name)}
      FOR EACH STATEMENT EXECUTE FUNCTION lock_statement_change_counter()
    `.execute(db)
    await sql`
      CREATE TRIGGER ${sql.id(`${name}_record_change`)} BEFORE INSERT OR UPDATE OR DELETE ON ${sql.table(name)}
      FOR EACH ROW EXECUTE FUNCTION ${sql.id(record)}()
    `.execute(db)
    await sql`
      CREATE TRIGGER ${sql.id(`${name}_save_change_counter`)} AFTER INSERT OR UPDATE OR DELETE ON ${sql.table(name)}
      FOR EACH STATEMENT EXECUTE FUNCTION save_statement_change_counter()
    `.execute(db)
  }

  // The purge takes each owner's counter before their rows (the lock order above), and
  // skips an owner whose counter a request holds now: the next batch gets them.
  await sql`
    CREATE OR REPLACE FUNCTION purge_expired_trash(retention interval, batch integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
      purged integer := 0;
      gone integer;
      owner text;
    BEGIN
      IF NOT pg_try_advisory_xact_lock(hashtext('purge_expired_trash')) THEN
        RETURN -1;
      END IF;
      FOR owner IN
        SELECT DISTINCT expired.user_id FROM (
          SELECT user_id FROM ${table('tasks')}
          WHERE deleted_at IS NOT NULL AND deleted_at < now() - retention
          ORDER BY deleted_at LIMIT batch
        ) AS expired
      LOOP
        EXIT WHEN purged >= batch;
        PERFORM 1 FROM ${table('change_counters')} WHERE user_id = owner FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        WITH doomed AS (
          SELECT id FROM ${table('tasks')}
          WHERE user_id = owner AND deleted_at IS NOT NULL AND deleted_at < now() - retention
          ORDER BY deleted_at
          LIMIT batch - purged
          FOR UPDATE SKIP LOCKED
        )
        DELETE FROM ${table('tasks')} t USING doomed d WHERE t.user_id = owner AND t.id = d.id;
        GET DIAGNOSTICS gone = ROW_COUNT;
        purged := purged + gone;
      END LOOP;
      RETURN purged;
    END
    $$
  `.execute(db)

  // Events older than `retention` go, `batch` at a time, for every user (the service's
  // expiry job names no user: owner's rights, pg_catalog only, only todo_app may call it).
  await sql`
    CREATE FUNCTION purge_expired_events(retention interval, batch integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
      purged integer;
    BEGIN
      WITH doomed AS (
        SELECT user_id, seq FROM ${table('events')} WHERE occurred_at < now() - retention LIMIT batch
      )
      DELETE FROM ${table('events')} e USING doomed d WHERE e.user_id = d.user_id AND e.seq = d.seq;
      GET DIAGNOSTICS purged = ROW_COUNT;
      RETURN purged;
    END
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION purge_expired_events(interval, integer) FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION purge_expired_events(interval, integer) TO todo_app`.execute(db)

  // The service's role: it reads its user's events, and its writes take numbers and add
  // events through the triggers (which run with its rights); policies as for every user table.
  await sql`GRANT SELECT, INSERT ON events TO todo_app`.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE ON change_counters TO todo_app`.execute(db)
  for (const name of ['events', 'change_counters']) {
    await sql`ALTER TABLE ${sql.table(name)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`
      CREATE POLICY ${sql.id(`${name}_of_current_user`)} ON ${sql.table(name)}
      USING (user_id = current_setting('app.user_id', true))
      WITH CHECK (user_id = current_setting('app.user_id', true))
    `.execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const tasks = sql.id((rows[0] as { schema: string }).schema, 'tasks')
  for (const name of ['tasks', 'categories']) {
    await sql`DROP TRIGGER ${sql.id(`${name}_record_change`)} ON ${sql.table(name)}`.execute(db)
    await sql`DROP TRIGGER ${sql.id(`${name}_lock_change_counter`)} ON ${sql.table(name)}`.execute(db)
    await sql`DROP TRIGGER ${sql.id(`${name}_save_change_counter`)} ON ${sql.table(name)}`.execute(db)
    await sql`DROP INDEX ${sql.id(`${name}_user_change_idx`)}`.execute(db)
    await sql`ALTER TABLE ${sql.table(name)} DROP COLUMN change_seq`.execute(db)
  }
  await sql`DROP FUNCTION record_task_change(), record_category_change(), lock_statement_change_counter(), save_statement_change_counter(), next_change_seq(text), lock_change_counter(text), save_change_seq(), purge_expired_events(interval, integer)`.execute(db)
  // purge_expired_trash as 202611281000_trash made it.
  await sql`
    CREATE OR REPLACE FUNCTION purge_expired_trash(retention interval, batch integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
      purged integer;
    BEGIN
      IF NOT pg_try_advisory_xact_lock(hashtext('purge_expired_trash')) THEN
        RETURN -1;
      END IF;
      WITH doomed AS (
        SELECT user_id, id FROM ${tasks}
        WHERE deleted_at IS NOT NULL AND deleted_at < now() - retention
        ORDER BY deleted_at
        LIMIT batch
        FOR UPDATE SKIP LOCKED
      ), gone AS (
        DELETE FROM ${tasks} t USING doomed d WHERE t.user_id = d.user_id AND t.id = d.id RETURNING 1
      )
      SELECT count(*)::integer INTO purged FROM gone;
      RETURN purged;
    END
    $$
  `.execute(db)
  await sql`DROP TABLE events, change_counters`.execute(db)
}
