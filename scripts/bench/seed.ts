/**
 * Bench data, written with INSERT … SELECT (never through HTTP): users with three categories
 * each and tasks with realistic fields — titles and descriptions from a small vocabulary (so
 * searches hit), tags, due dates, priorities, some completed.
 *   small: 100 users × 200 tasks (20,000)
 *   large: 10,000 users, 1,000,900 tasks: the 100 users the scenarios use hold 1,000 tasks
 *          each, the 9,900 others 91 each.
 */
import { type Kysely, sql } from 'kysely'
import type { Database } from '../../src/database/types.js'

export type BenchSize = 'small' | 'large'
export const ACTIVE_USERS = 100
export const SEARCH_WORDS = ['milk', 'report', 'invoice', 'garden', 'slides', 'car', 'book', 'kitchen']

export const benchUser = (n: number): string => `bench-${n}`

export async function seed (db: Kysely<Database>, size: BenchSize): Promise<number> {
  const users = size === 'small' ? ACTIVE_USERS : 10_000
  const perActive = size === 'small' ? 200 : 1_000
  const perOther = 91
  await sql`INSERT INTO users (id, email, name) SELECT 'bench-' || u, 'bench' || u || '@example.com', 'Bench ' || u FROM generate_series(1, ${users}::int) u`.execute(db)
  await sql`
    INSERT INTO categories (user_id, name, color)
    SELECT 'bench-' || u, c.name, c.color
    FROM generate_series(1, ${users}::int) u, (VALUES ('Work', '#1E88E5'), ('Home', '#43A047'), ('Errands', NULL)) AS c(name, color)
  `.execute(db)
  await sql`
    INSERT INTO tasks (user_id, title, description, priority, due_at, category_id, tags, completed, completed_at, created_at, updated_at)
    SELECT 'bench-' || u,
           (ARRAY['Buy', 'Call', 'Write', 'Review', 'Plan', 'Fix', 'Read', 'Clean'])[1 + g % 8] || ' ' || (${sql.lit(`{${SEARCH_WORDS.join(',')}}`)}::text[])[1 + (g * 7) % 8] || ' #' || g,
           CASE WHEN g % 3 = 0 THEN 'Remember the ' || (${sql.lit(`{${SEARCH_WORDS.join(',')}}`)}::text[])[1 + (g * 3) % 8] || ' before Friday' END,
           (ARRAY['low', 'medium', 'high'])[1 + g % 3]::task_priority,
           CASE WHEN g % 4 <> 0 THEN now() + ((g % 90) || ' days')::interval END,
           c.id,
           ARRAY[(ARRAY['home', 'work', 'urgent', 'later', 'errands'])[1 + g % 5]],
           g % 5 = 0,
           CASE WHEN g % 5 = 0 THEN now() END,
           now() - (g || ' minutes')::interval,
           now() - (g || ' minutes')::interval
    FROM generate_series(1, ${users}::int) u
    CROSS JOIN LATERAL generate_series(1, CASE WHEN u <= ${ACTIVE_USERS}::int THEN ${perActive}::int ELSE ${perOther}::int END) g
    LEFT JOIN categories c ON c.user_id = 'bench-' || u AND c.name = (ARRAY['Work', 'Home', 'Errands'])[1 + g % 3] AND g % 2 = 0
  `.execute(db)
  await sql`ANALYZE`.execute(db)
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM tasks`.execute(db)
  return Number(rows[0]?.n ?? 0)
}
