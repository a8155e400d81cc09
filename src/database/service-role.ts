/**
 * The role the service works as under row-level security (created and granted by
 * db/migrations/202611240800_row_level_security.ts), and the start-up check that it really
 * is confined by the policies: a superuser, a BYPASSRLS role or a table's owner would see
 * every user's rows whatever app.user_id says.
 */
import { type Kysely, sql } from 'kysely'
import type { Database } from './types.js'

export const SERVICE_ROLE = 'todo_app'

/** The role the job queue works as (db/migrations/202611290100_job_queue_role.ts): the queue's schema, nothing else. */
export const JOBS_ROLE = 'todo_jobs'

const USER_TABLES = ['users', 'categories', 'tasks', 'idempotency_keys', 'webhooks', 'webhook_deliveries', 'webhook_attempts']

/** What lets the current role get round the policies; empty when nothing does. */
export async function serviceRoleLoopholes (db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ role: string, rolsuper: boolean, rolbypassrls: boolean, owned: string[] | null, unprotected: string[] | null }>`
    WITH user_tables AS (
      -- Resolved on the search path; to_regclass gives NULL for a missing one.
      SELECT c.relname::text AS name, c.relowner, c.relrowsecurity FROM pg_class c
      WHERE c.oid = ANY (ARRAY[${sql.join(USER_TABLES.map((name) => sql`to_regclass(${name})`))}]::oid[])
    )
    SELECT current_user AS role, r.rolsuper, r.rolbypassrls,
      (SELECT array_agg(name ORDER BY name) FROM user_tables WHERE pg_has_role(current_user, relowner, 'USAGE')) AS owned,
      (SELECT array_agg(name ORDER BY name) FROM user_tables WHERE NOT relrowsecurity) AS unprotected
    FROM pg_roles r WHERE r.rolname = current_user
  `.execute(db)
  const row = rows[0]
  if (row === undefined) return ['the current role is not in pg_roles']
  const loopholes: string[] = []
  if (row.rolsuper) loopholes.push(`role ${row.role} is a superuser`)
  if (row.rolbypassrls) loopholes.push(`role ${row.role} has BYPASSRLS`)
  if (row.owned !== null) loopholes.push(`role ${row.role} owns (or inherits the owner of) ${row.owned.join(', ')}`)
  if (row.unprotected !== null) loopholes.push(`row-level security is off on ${row.unprotected.join(', ')} (are the migrations applied?)`)
  return loopholes
}
