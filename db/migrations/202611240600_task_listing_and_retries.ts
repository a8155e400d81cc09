/**
 * What listing, search and safe retries need:
 * - due_at sorts with tasks without a due date last in both directions. Sorting on
 *   coalesce(due_at, ±infinity) gives that order from a plain btree range scan, so each
 *   direction gets its own expression index and keyset paging stays one index scan.
 * - Search and tag filters within one user: GIN over (user_id, …) with btree_gin, so a
 *   query never gathers other users' matches.
 * - idempotency_keys: the first response to each (user, Idempotency-Key), kept 24 hours.
 * - service_keys: a random key shared by every process through the database, used to
 *   sign list cursors (the service itself keeps no state).
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX tasks_user_due_idx`.execute(db)
  await sql`CREATE INDEX tasks_user_due_asc_idx ON tasks (user_id, coalesce(due_at, 'infinity'::timestamptz), id)`.execute(db)
  await sql`CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, coalesce(due_at, '-infinity'::timestamptz), id)`.execute(db)

  // btree_gin is a trusted extension (PostgreSQL 13+): the database owner may create it.
  await sql`CREATE EXTENSION IF NOT EXISTS btree_gin`.execute(db)
  await sql`DROP INDEX tasks_search_idx`.execute(db)
  await sql`DROP INDEX tasks_tags_idx`.execute(db)
  await sql`CREATE INDEX tasks_user_search_idx ON tasks USING gin (user_id, search)`.execute(db)
  await sql`CREATE INDEX tasks_user_tags_idx ON tasks USING gin (user_id, tags)`.execute(db)

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', 'text', (col) => col.notNull().check(sql`char_length(key) BETWEEN 1 AND 255`))
    .addColumn('request_hash', 'text', (col) => col.notNull())
    .addColumn('response_status', 'integer', (col) => col.notNull())
    .addColumn('response_headers', 'jsonb', (col) => col.notNull())
    .addColumn('response_body', 'text', (col) => col.notNull())
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['user_id', 'key'])
    .execute()
  await sql`CREATE INDEX idempotency_keys_user_created_idx ON idempotency_keys (user_id, created_at)`.execute(db)

  await db.schema
    .createTable('service_keys')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  // gen_random_uuid() draws from PostgreSQL's strong random source: 244 random bits a UUID.
  await sql`
    INSERT INTO service_keys (name, secret)
    VALUES ('cursor', encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'))
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('service_keys').execute()
  await db.schema.dropTable('idempotency_keys').execute()
  await sql`DROP INDEX tasks_user_tags_idx`.execute(db)
  await sql`DROP INDEX tasks_user_search_idx`.execute(db)
  await sql`CREATE INDEX tasks_tags_idx ON tasks USING gin (tags)`.execute(db)
  await sql`CREATE INDEX tasks_search_idx ON tasks USING gin (search)`.execute(db)
  await sql`DROP INDEX tasks_user_due_desc_idx`.execute(db)
  await sql`DROP INDEX tasks_user_due_asc_idx`.execute(db)
  await sql`CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id)`.execute(db)
}
