/**
 * Row-level security: defence in depth under the repositories' own `user_id = $owner`.
 * - `todo_app`: the role the service works as (src/database/service-role.ts). It cannot log
 *   in, owns nothing, is no superuser and cannot bypass row security; it may read and write
 *   the rows of the user tables and read service_keys, nothing else (no DDL).
 * - Every user table has row security on, with one policy: a row is visible and writable
 *   only when its user is `app.user_id`, which the service sets per transaction
 *   (src/database/user-scope.ts). Unset, `current_setting(…, true)` is NULL and matches no
 *   row: a statement run outside a user's transaction sees and changes nothing.
 * - Not FORCEd: the owner (who runs migrations) is not subject to the policies, so a
 *   migration may still read and rewrite every user's rows.
 * Roles belong to the whole cluster, so the role may exist already (another database of the
 * same server); it is created when missing and never dropped here.
 * A later migration that adds a table the service uses must GRANT it to todo_app itself
 * (and give it a policy when it holds user data).
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

const USER_TABLES = [
  { table: 'users', owner: 'id' },
  { table: 'categories', owner: 'user_id' },
  { table: 'tasks', owner: 'user_id' },
  { table: 'idempotency_keys', owner: 'user_id' }
] as const

export async function up (db: Kysely<any>): Promise<void> {
  // Two databases of one cluster migrating at once may both find the role missing: the
  // loser gets duplicate_object or, racing on the catalog's index, unique_violation.
  await sql`
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todo_app') THEN
        CREATE ROLE todo_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END
    $$
  `.execute(db)
  await sql`DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO todo_app', current_schema()); END $$`.execute(db)
  await sql`GRANT SELECT ON service_keys TO todo_app`.execute(db)

  for (const { table, owner } of USER_TABLES) {
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${sql.table(table)} TO todo_app`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`
      CREATE POLICY ${sql.id(`${table}_of_current_user`)} ON ${sql.table(table)}
      USING (${sql.ref(owner)} = current_setting('app.user_id', true))
      WITH CHECK (${sql.ref(owner)} = current_setting('app.user_id', true))
    `.execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const { table } of [...USER_TABLES].reverse()) {
    await sql`DROP POLICY ${sql.id(`${table}_of_current_user`)} ON ${sql.table(table)}`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} DISABLE ROW LEVEL SECURITY`.execute(db)
    await sql`REVOKE ALL ON ${sql.table(table)} FROM todo_app`.execute(db)
  }
  await sql`REVOKE ALL ON service_keys FROM todo_app`.execute(db)
  await sql`DO $$ BEGIN EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM todo_app', current_schema()); END $$`.execute(db)
}
