/**
 * Users, categories and tasks. Every table is keyed by user first — primary keys
 * (user_id, id), category names unique on (user_id, lower(name)), tasks → categories by the
 * composite key (user_id, category_id) — so the schema can be distributed by user_id
 * (e.g. on Citus) unchanged, and no row can point at another user's row.
 * Frozen: never import src/, never edit once released; add a new migration instead.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (col) => col.primaryKey().check(sql`char_length(id) BETWEEN 1 AND 255`))
    .addColumn('email', 'text')
    .addColumn('name', 'text')
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('categories')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (col) => col.notNull().check(sql`char_length(name) BETWEEN 1 AND 50`))
    .addColumn('color', 'text', (col) => col.check(sql`color ~ '^#[0-9A-Fa-f]{6}$'`))
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('categories_pkey', ['user_id', 'id'])
    .execute()
  // Unique per user, case-insensitively (API.md: 409 on a second "work" beside "Work").
  await sql`CREATE UNIQUE INDEX categories_user_name_key ON categories (user_id, lower(name))`.execute(db)

  // Enum values sort in declaration order, so ORDER BY priority is low < medium < high.
  await db.schema.createType('task_priority').asEnum(['low', 'medium', 'high']).execute()

  await db.schema
    .createTable('tasks')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('title', 'text', (col) => col.notNull().check(sql`char_length(title) BETWEEN 1 AND 200`))
    .addColumn('description', 'text', (col) => col.check(sql`char_length(description) <= 1000`))
    .addColumn('completed', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('completed_at', sql`timestamptz(3)`)
    .addColumn('priority', sql`task_priority`, (col) => col.notNull().defaultTo('medium'))
    .addColumn('due_at', sql`timestamptz(3)`)
    .addColumn('category_id', 'uuid')
    .addColumn('tags', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'::text[]`).check(sql`cardinality(tags) <= 20`))
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('version', 'integer', (col) => col.notNull().defaultTo(1).check(sql`version >= 1`))
    // Whole-word, case-insensitive search without stemming: the 'simple' configuration.
    .addColumn('search', sql`tsvector`, (col) => col.generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, title || ' ' || coalesce(description, ''))`).stored())
    .addPrimaryKeyConstraint('tasks_pkey', ['user_id', 'id'])
    .addCheckConstraint('tasks_completed_at_check', sql`completed = (completed_at IS NOT NULL)`)
    .execute()
  // ON DELETE SET NULL (category_id) (PostgreSQL 15+) clears only the category, never user_id.
  await sql`
    ALTER TABLE tasks ADD CONSTRAINT tasks_category_fkey
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE SET NULL (category_id)
  `.execute(db)

  // One index per sort key of listTasks, user first and id last, so that every page of a
  // keyset-paged listing is one index range scan.
  await sql`CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id)`.execute(db)
  await sql`CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id)`.execute(db)
  await sql`CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id)`.execute(db)
  await sql`CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id)`.execute(db)
  await sql`CREATE INDEX tasks_user_title_idx ON tasks (user_id, lower(title) COLLATE "C", id)`.execute(db)
  await sql`CREATE INDEX tasks_user_category_idx ON tasks (user_id, category_id)`.execute(db)
  await sql`CREATE INDEX tasks_search_idx ON tasks USING gin (search)`.execute(db)
  await sql`CREATE INDEX tasks_tags_idx ON tasks USING gin (tags)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('tasks').execute()
  await db.schema.dropType('task_priority').execute()
  await db.schema.dropTable('categories').execute()
  await db.schema.dropTable('users').execute()
}
