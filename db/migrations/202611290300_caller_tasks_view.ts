/**
 * `caller_tasks`: the caller's tasks for word and tag search, read through the indexes that
 * row-level security keeps them from.
 *
 * Under a policy PostgreSQL evaluates a query's own conditions after the policy's unless they
 * are leakproof, and `@@` (word search) and `@>` (tag filter) are not: they cannot become
 * index conditions, so a search filtered the caller's tasks one by one in the listing's order
 * and its cost grew with the caller's task count (docs/benchmarks.md). A leakproof wrapper
 * would need a superuser and still no index could serve it (a GIN operator class names its
 * operators), and a SECURITY DEFINER function returning the matching ids hides its row count
 * from the planner.
 *
 * This view is owned by the tables' owner, so a query through it is checked against the
 * owner's rights (the policies are not FORCEd) and carries the same predicate as the policies,
 * `user_id = current_setting('app.user_id', true)`, as an ordinary condition: the planner
 * may then use `(user_id, search)` and `(user_id, tags)` GIN indexes, or walk a sort index,
 * whichever is cheaper, as it does with row-level security off. What it gives up against a
 * policy: a leakproof guarantee against functions in the query itself, which protects from
 * SQL written by an attacker; this service sends only its own statements, built from the
 * repositories, and the promise row-level security keeps here (a repository bug cannot reach
 * another user's rows) holds, because the caller comes from the setting, never from the
 * statement's parameters. No security_barrier: that would bring the leakproof rule back.
 *
 * The service's role may only read it. It lists tasks' columns as they are now: a migration
 * that adds a column to tasks recreates it (test/repositories/caller-tasks-view.test.ts
 * fails until then).
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`CREATE VIEW caller_tasks AS SELECT * FROM tasks WHERE user_id = current_setting('app.user_id', true)`.execute(db)
  await sql`GRANT SELECT ON caller_tasks TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP VIEW caller_tasks`.execute(db)
}
