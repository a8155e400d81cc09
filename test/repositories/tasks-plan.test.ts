/**
 * Each page of listTasks is one indexed query however deep it is (API.md): with 100,000
 * tasks of one user among 100,000 of other users, EXPLAIN shows the default listing, every
 * sort in both orders, deep pages and `q` reading an index, never scanning the table, the
 * sorted listings needing no sort step (the index gives the order), and a deep page's
 * keyset condition bounding the index scan rather than filtering the rows before it, and a
 * rare search word found through the GIN index whether row-level security is on or off.
 * Plans are taken as the service runs the query: as role todo_app under row-level security
 * (which keeps non-leakproof conditions out of index scans), and with RLS_ENABLED=false.
 */
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import type { Database } from '../../src/database/types.js'
import * as categories from '../../src/repositories/categories.js'
import * as events from '../../src/repositories/events.js'
import * as tasks from '../../src/repositories/tasks.js'
import { isolatedDatabase } from '../helpers/database.js'

interface PlanNode { 'Node Type': string, 'Relation Name'?: string, 'Index Name'?: string, 'Index Cond'?: string, Filter?: string, Plans?: PlanNode[] }

function nodes (plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

t.test('listTasks query plans on 100,000 tasks', async (t) => {
  const { url } = await isolatedDatabase(t)
  let last: CompiledQuery | undefined
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (event) => { if (event.level === 'query') last = event.query } })
  t.teardown(async () => { await db.destroy() })

  const me = 'plan-user'
  await sql`INSERT INTO users (id) SELECT 'other-' || g FROM generate_series(1, 50) g UNION ALL SELECT ${me}`.execute(db)
  // 100,000 tasks for me and 2,000 for each of 50 other users, with varied fields.
  await sql`
    INSERT INTO tasks (user_id, title, description, priority, due_at, due_date, time_zone, tags, completed, completed_at, created_at, updated_at)
    SELECT u, 'task ' || g || CASE WHEN g % 10 = 0 THEN ' groceries milk' ELSE ' chores' END,
           CASE WHEN g % 3 = 0 THEN 'description ' || g END,
           (ARRAY['low','medium','high'])[1 + g % 3]::task_priority,
           CASE WHEN g % 4 <> 0 THEN now() + (g || ' minutes')::interval END,
           -- All-day tasks, half of them in a zone of their own.
           CASE WHEN g % 8 = 0 THEN current_date + g % 400 END,
           CASE WHEN g % 16 = 0 THEN 'Asia/Tokyo' END,
           ARRAY['tag' || (g % 7)], g % 5 = 0, CASE WHEN g % 5 = 0 THEN now() END,
           now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
    FROM (SELECT ${me}::text AS u, g FROM generate_series(1, 100000) g
          -- One user after the other: the change record numbers a statement's rows fastest so.
          UNION ALL SELECT 'other-' || ((g - 1) / 2000 + 1), g FROM generate_series(1, 100000) g) s
  `.execute(db)
  // Categories, 2,000 each for me and the others, and 1,000 of my tasks purged (sync's deletions).
  await sql`INSERT INTO categories (user_id, name) SELECT u, 'category ' || g FROM (SELECT ${me}::text AS u UNION ALL SELECT 'other-1') us, generate_series(1, 2000) g ORDER BY u`.execute(db)
  await sql`DELETE FROM tasks WHERE user_id = ${me} AND id IN (SELECT id FROM tasks WHERE user_id = ${me} ORDER BY id DESC LIMIT 1000)`.execute(db)
  // 2,000 of mine in the trash, trashed at different times.
  await sql`
    UPDATE tasks SET deleted_at = now() - (ctid::text::point)[1] * interval '1 second'
    WHERE user_id = ${me} AND id IN (SELECT id FROM tasks WHERE user_id = ${me} ORDER BY id LIMIT 2000)
  `.execute(db)
  // 3,000 of mine are subtasks of one of mine (sort=position under one parent).
  const { rows: parents } = await sql<{ id: string }>`SELECT id FROM tasks WHERE user_id = ${me} AND deleted_at IS NULL ORDER BY id DESC LIMIT 1`.execute(db)
  const parentId = parents[0]!.id
  await sql`
    UPDATE tasks SET parent_id = ${parentId}
    WHERE user_id = ${me} AND id IN (SELECT id FROM tasks WHERE user_id = ${me} AND deleted_at IS NULL AND id <> ${parentId} ORDER BY id DESC LIMIT 3000)
  `.execute(db)
  await sql`ANALYZE`.execute(db)

  let rowLevelSecurity = true
  async function explain (query: tasks.TaskListQuery): Promise<PlanNode[]> {
    return await explainLast(async () => await tasks.list(db, me, query))
  }
  /** The plan of the last statement `run` sent. */
  async function explainLast (run: () => Promise<unknown>): Promise<PlanNode[]> {
    await run()
    const compiled = last as CompiledQuery
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      if (rowLevelSecurity) await client.query(`SET LOCAL ROLE ${SERVICE_ROLE}`)
      // The service names its caller with row-level security off too (search reads it).
      await client.query('SELECT set_config(\'app.user_id\', $1, true)', [me])
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${compiled.sql}`, compiled.parameters as unknown[])
      return nodes((rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]!.Plan)
    } finally {
      await client.query('ROLLBACK')
      client.release()
    }
  }

  const base = { status: 'all', sort: 'created_at', order: 'desc', limit: 50 } as const
  const assertIndexed = (t: Tap.Test, plan: PlanNode[], label: string, sorted: boolean): void => {
    // Of tasks: the due views read the user's own row (their zone) from the small users table.
    t.notOk(plan.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'tasks'), `${label}: no sequential scan of tasks`)
    t.ok(plan.some((n) => n['Index Name']?.startsWith('tasks_') === true), `${label}: reads a tasks index`)
    if (sorted) t.notOk(plan.some((n) => n['Node Type'] === 'Sort'), `${label}: no sort step`)
  }

  const plans = async (t: Tap.Test): Promise<void> => {
    t.test('the default listing', async (t) => {
      assertIndexed(t, await explain(base), 'default', true)
    })

    t.test('every sort in both orders, first and deep pages', async (t) => {
      for (const sort of ['created_at', 'updated_at', 'due_at', 'priority', 'title', 'position'] as const) {
        for (const order of ['asc', 'desc'] as const) {
        // A real position ~2,000 rows in, as a cursor would carry it.
          let after: { key: string, id: string } | undefined
          for (let page = 0; page < 40; page++) after = (await tasks.list(db, me, { ...base, sort, order, after })).next
          assertIndexed(t, await explain({ ...base, sort, order }), `${sort} ${order}`, true)
          const deep = await explain({ ...base, sort, order, after })
          assertIndexed(t, deep, `${sort} ${order}, deep page`, true)
          const scan = deep.find((n) => n['Index Name'] !== undefined)
          t.match(scan?.['Index Cond'], /\bid\)? [<>] /, `${sort} ${order}, deep page: the keyset bounds the index scan`)
          t.equal(scan?.Filter, undefined, `${sort} ${order}, deep page: no row is read only to be filtered out`)
        }
      }
    })

    t.test('one parent\'s children by position, first and deep pages: one range of the siblings\' index', async (t) => {
      for (const order of ['asc', 'desc'] as const) {
        const query = { ...base, sort: 'position', order, parent_id: parentId } as const
        let after: { key: string, id: string } | undefined
        for (let page = 0; page < 20; page++) after = (await tasks.list(db, me, { ...query, after })).next
        for (const [label, plan] of [['first', await explain(query)], ['deep', await explain({ ...query, after })]] as const) {
          assertIndexed(t, plan, `children ${order}, ${label} page`, true)
          const scan = plan.find((n) => n['Index Name'] !== undefined)
          t.equal(scan?.['Index Name'], 'tasks_sibling_position_idx', `children ${order}, ${label} page: the siblings' index`)
          if (label === 'deep') t.match(scan?.['Index Cond'], /"?position"? [<>] /, `children ${order}, deep page: the keyset bounds the index scan`)
        }
      }
    })

    t.test('the trash, first and deep pages', async (t) => {
      assertIndexed(t, await explainLast(async () => await tasks.listTrash(db, me, { limit: 50 })), 'trash', true)
      let after: { key: string, id: string } | undefined
      for (let page = 0; page < 20; page++) after = (await tasks.listTrash(db, me, { limit: 50, after })).next
      const deep = await explainLast(async () => await tasks.listTrash(db, me, { limit: 50, after }))
      assertIndexed(t, deep, 'trash, deep page', true)
      const scan = deep.find((n) => n['Index Name'] !== undefined)
      t.equal(scan?.['Index Name'], 'tasks_user_trash_idx')
      t.match(scan?.['Index Cond'], /\bid\)? [<>] /, 'trash, deep page: the keyset bounds the index scan')
    })

    t.test('an incremental sync reads only what changed after its number', async (t) => {
      // A number 100 changes before the user's latest: the scans start there.
      const { rows } = await sql<{ seq: string }>`SELECT (seq - 100)::text AS seq FROM change_counters WHERE user_id = ${me}`.execute(db)
      const after = rows[0]!.seq
      for (const [label, run, index] of [
        ['tasks', async () => await tasks.changedSince(db, me, after, 501), 'tasks_user_change_idx'],
        ['categories', async () => await categories.changedSince(db, me, after, 501), 'categories_user_change_idx'],
        ['deletions', async () => await events.deletionsSince(db, me, after, 1001), 'events_deletions_idx']
      ] as const) {
        const plan = await explainLast(run)
        t.notOk(plan.some((n) => n['Node Type'] === 'Seq Scan'), `${label}: no sequential scan`)
        const scan = plan.find((n) => n['Index Name'] === index)
        t.ok(scan, `${label}: reads ${index}`)
        t.match(scan?.['Index Cond'], /change_seq > |seq > /, `${label}: the number bounds the index scan`)
      }
    })

    t.test('filters on top of a sort', async (t) => {
      assertIndexed(t, await explain({ ...base, status: 'pending', priority: 'high' }), 'status + priority', false)
      for (const due of ['overdue', 'today', 'upcoming', 'none'] as const) {
        assertIndexed(t, await explain({ ...base, due }), `due=${due}`, false)
        assertIndexed(t, await explain({ ...base, due, sort: 'due_at', order: 'asc' }), `due=${due}, by due`, true)
      }
    })

    t.test('a due range sorted by due: its bounds bound the scan of the due index', async (t) => {
      const range = { due_after: new Date(Date.now() + 86_400_000).toISOString(), due_before: new Date(Date.now() + 5 * 86_400_000).toISOString() }
      for (const order of ['asc', 'desc'] as const) {
        const plan = await explain({ ...base, ...range, sort: 'due_at', order })
        // A narrow range may be read whole from the index (a bitmap scan) and its first page
        // picked by a top-N sort; either way the range bounds what is read.
        assertIndexed(t, plan, `due range, ${order}`, false)
        const scan = plan.find((n) => n['Index Name'] !== undefined)
        t.equal(scan?.['Index Name'], `tasks_user_due_${order}_idx`, `due range, ${order}: the due index`)
        t.match(scan?.['Index Cond'], /due_effective[^]*>=[^]*due_effective[^]*</, `due range, ${order}: both bounds in the index condition`)
      }
    })

    t.test('full-text search', async (t) => {
      // A common pair of words (10% of the rows): walking the sort index until 50 match is
      // cheapest, and PostgreSQL may do that; either way no table scan.
      assertIndexed(t, await explain({ ...base, q: 'groceries milk' }), 'common q', false)
      const rare = await explain({ ...base, q: '12345' })
      assertIndexed(t, rare, 'rare q', false)
      t.ok(rare.some((n) => n['Index Cond']?.includes('user_id = ') === true), 'rare q reads only this user\'s index entries')
      // A rare word: the (user_id, search) GIN index finds the few matches directly, with
      // row-level security on too: search reads the caller_tasks view, where `@@` (not
      // leakproof) may still be an index condition.
      const gin = rare.find((n) => n['Index Name'] === 'tasks_user_search_idx')
      t.ok(gin, 'rare q uses the (user_id, search) GIN index')
      t.match(gin?.['Index Cond'], /search @@/, 'the words are a condition of the GIN index scan, not a filter after it')
    })

    t.test('a tag filter reads an index', async (t) => {
      assertIndexed(t, await explain({ ...base, tag: 'tag3' }), 'tag', false)
    })
  }

  for (const mode of ['as todo_app under row-level security', 'with RLS_ENABLED=false'] as const) {
    t.test(mode, async (t) => {
      rowLevelSecurity = mode !== 'with RLS_ENABLED=false'
      await plans(t)
    })
  }
})

declare namespace Tap { type Test = import('tap').Test }
