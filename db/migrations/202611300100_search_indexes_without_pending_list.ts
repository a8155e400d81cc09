/**
 * Word and tag search at a steady cost: the tasks' two GIN indexes keep no pending list.
 *
 * With `fastupdate` on (PostgreSQL's default) a GIN index puts new entries in an unsorted
 * pending list and merges them into the index in bulk, at a vacuum or when the list passes
 * `gin_pending_list_limit` (4 MB). Every search of the index reads the whole list, which holds
 * every user's recent writes: under steady writes a search's cost climbs with the list, then
 * drops at a merge, and the write that triggers the merge pays for all of it. Measured in
 * `npm run bench` (docs/benchmarks.md, "Search indexes without a pending list"): PostgreSQL's
 * CPU per mixed request rose by about a third over a minute of load and fell back, a sawtooth
 * that moved every figure taken under writes.
 *
 * A task's entries are a few words and tags, so a direct insert costs each write little, and
 * PostgreSQL's documentation recommends turning `fastupdate` off when consistent response
 * time matters more than update speed. Turning it off leaves the entries already pending in
 * the list, so they are merged here. `ALTER INDEX … SET (fastupdate)` takes a SHARE UPDATE
 * EXCLUSIVE lock: reads and writes of tasks go on while it runs.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

const INDEXES = ['tasks_user_search_idx', 'tasks_user_tags_idx']

export async function up (db: Kysely<any>): Promise<void> {
  for (const index of INDEXES) {
    await sql`ALTER INDEX ${sql.id(index)} SET (fastupdate = off)`.execute(db)
    await sql`SELECT gin_clean_pending_list(${index}::regclass)`.execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const index of INDEXES) await sql`ALTER INDEX ${sql.id(index)} RESET (fastupdate)`.execute(db)
}
