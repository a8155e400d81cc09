/**
 * The bench data (seed.ts) written into the peer's own tables (`npm run bench -- --peer`), so
 * that the two stacks answer the same users, categories and tasks: the same names, titles,
 * descriptions, priorities, due dates, categories, tags and completed flags, created and
 * updated the same time before the seed ran. Only what the peer's schema differs in differs:
 *   - its ids have no default in the table (the peer makes uuid4s in Python): the database
 *     makes them here, also version 4 UUIDs;
 *   - its users and categories have created_at/updated_at without a default, given here;
 *   - priority is a varchar, version starts at 1 as its own creates do;
 *   - times are cut to milliseconds, the only precision it writes (models.py, now_utc).
 * The tables must exist: the peer creates them at its start, so this runs once it is ready.
 */
import { type Kysely, sql } from 'kysely'
import { ACTIVE_USERS, type BenchSize, SEARCH_WORDS } from './seed.js'

export async function seedPeer<T> (db: Kysely<T>, size: BenchSize): Promise<number> {
  const users = size === 'small' ? ACTIVE_USERS : 10_000
  const perActive = size === 'small' ? 200 : 1_000
  const perOther = 91
  const words = sql.lit(`{${SEARCH_WORDS.join(',')}}`)
  const now = sql`date_trunc('milliseconds', now())`
  await sql`INSERT INTO users (id, email, name, created_at, updated_at) SELECT 'bench-' || u, 'bench' || u || '@example.com', 'Bench ' || u, ${now}, ${now} FROM generate_series(1, ${users}::int) u`.execute(db)
  await sql`
    INSERT INTO categories (id, user_id, name, color, created_at, updated_at)
    SELECT gen_random_uuid(), 'bench-' || u, c.name, c.color, ${now}, ${now}
    FROM generate_series(1, ${users}::int) u, (VALUES ('Work', '#1E88E5'), ('Home', '#43A047'), ('Errands', NULL)) AS c(name, color)
  `.execute(db)
  await sql`
    INSERT INTO tasks (id, user_id, title, description, completed, completed_at, priority, due_at, category_id, tags, created_at, updated_at, version)
    SELECT gen_random_uuid(),
           'bench-' || u,
           (ARRAY['Buy', 'Call', 'Write', 'Review', 'Plan', 'Fix', 'Read', 'Clean'])[1 + g % 8] || ' ' || (${words}::text[])[1 + (g * 7) % 8] || ' #' || g,
           CASE WHEN g % 3 = 0 THEN 'Remember the ' || (${words}::text[])[1 + (g * 3) % 8] || ' before Friday' END,
           g % 5 = 0,
           CASE WHEN g % 5 = 0 THEN ${now} END,
           (ARRAY['low', 'medium', 'high'])[1 + g % 3],
           CASE WHEN g % 4 <> 0 THEN ${now} + ((g % 90) || ' days')::interval END,
           c.id,
           ARRAY[(ARRAY['home', 'work', 'urgent', 'later', 'errands'])[1 + g % 5]],
           ${now} - (g || ' minutes')::interval,
           ${now} - (g || ' minutes')::interval,
           1
    FROM generate_series(1, ${users}::int) u
    CROSS JOIN LATERAL generate_series(1, CASE WHEN u <= ${ACTIVE_USERS}::int THEN ${perActive}::int ELSE ${perOther}::int END) g
    LEFT JOIN categories c ON c.user_id = 'bench-' || u AND c.name = (ARRAY['Work', 'Home', 'Errands'])[1 + g % 3] AND g % 2 = 0
  `.execute(db)
  await sql`ANALYZE`.execute(db)
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM tasks`.execute(db)
  return Number(rows[0]?.n ?? 0)
}
