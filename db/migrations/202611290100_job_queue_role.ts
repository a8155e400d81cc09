/**
 * `todo_jobs`: the role the job queue works as, so that a production login needs no owner's
 * rights to run it (README, "Production roles").
 * - graphile-worker's schema (installed by the migrate step before the migrations) and
 *   job_queue_workers are the owner's; todo_jobs may use them, nothing else. The service's
 *   role todo_app still may not touch the queue (account deletion removes a user's jobs with
 *   the owner's rights: 202611282200_account_deletion.ts).
 * - graphile-worker turns row-level security on for its private tables, with no policy, so
 *   that only their owner sees a row: each gets a policy letting todo_jobs see and write every
 *   row (the queue's rows hold no user's data: ids and times). Default privileges cover what a
 *   later graphile-worker version adds to its schema when the owner installs it; a table it
 *   adds with row security on needs its policy in a migration beside that upgrade (the
 *   queue's test fails without it: no job would run).
 * - A login becomes it at connection start (src/jobs/queue.ts) when row-level security is on;
 *   the owner (the embedded database, the test suite) is a superuser or its creator.
 * Roles belong to the whole cluster: created when missing, never dropped here.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

const QUEUE_SCHEMA = 'graphile_worker'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todo_jobs') THEN
        CREATE ROLE todo_jobs NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END
    $$
  `.execute(db)
  const schema = sql.id(QUEUE_SCHEMA)
  await sql`GRANT USAGE ON SCHEMA ${schema} TO todo_jobs`.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO todo_jobs`.execute(db)
  await sql`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO todo_jobs`.execute(db)
  await sql`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO todo_jobs`.execute(db)
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO todo_jobs`.execute(db)
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO todo_jobs`.execute(db)
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT EXECUTE ON FUNCTIONS TO todo_jobs`.execute(db)
  for (const table of await protectedTables(db)) {
    await sql`CREATE POLICY todo_jobs_all ON ${sql.id(QUEUE_SCHEMA, table)} TO todo_jobs USING (true) WITH CHECK (true)`.execute(db)
  }
  await sql`DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO todo_jobs', current_schema()); END $$`.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON job_queue_workers TO todo_jobs`.execute(db)
}

/** The queue schema's tables with row-level security on. */
async function protectedTables (db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${QUEUE_SCHEMA} AND c.relkind = 'r' AND c.relrowsecurity ORDER BY c.relname
  `.execute(db)
  return rows.map((row) => row.name)
}

export async function down (db: Kysely<any>): Promise<void> {
  const schema = sql.id(QUEUE_SCHEMA)
  await sql`REVOKE ALL ON job_queue_workers FROM todo_jobs`.execute(db)
  await sql`DO $$ BEGIN EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM todo_jobs', current_schema()); END $$`.execute(db)
  for (const table of await protectedTables(db)) {
    await sql`DROP POLICY IF EXISTS todo_jobs_all ON ${sql.id(QUEUE_SCHEMA, table)}`.execute(db)
  }
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} REVOKE ALL ON FUNCTIONS FROM todo_jobs`.execute(db)
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} REVOKE ALL ON SEQUENCES FROM todo_jobs`.execute(db)
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} REVOKE ALL ON TABLES FROM todo_jobs`.execute(db)
  await sql`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${schema} FROM todo_jobs`.execute(db)
  await sql`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM todo_jobs`.execute(db)
  await sql`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM todo_jobs`.execute(db)
  await sql`REVOKE USAGE ON SCHEMA ${schema} FROM todo_jobs`.execute(db)
}
