/**
 * job_queue_depth(): the jobs due now and waiting for a worker, by task, for the metrics
 * (src/repositories/job-queue.ts). graphile-worker's tables are their owner's, and the
 * service works as todo_app, which may not read them: so a SECURITY DEFINER function (fixed
 * search_path, executable by todo_app only) that says how many, and nothing of the payloads.
 * It counts on graphile-worker 0.17's own partial index of available jobs (`is_available`:
 * unlocked, attempts left; the index its workers pick jobs from), so a scrape costs a scan of
 * that index, not of every job: the library's private tables, which is why graphile-worker is
 * pinned exactly; check this function when upgrading it (docs/runtimes.md).
 * Every task the queue has ever known is listed, with 0 when none is waiting.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION job_queue_depth() RETURNS TABLE (task text, jobs bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      SELECT t.identifier, count(j.id)
      FROM graphile_worker._private_tasks t
      LEFT JOIN graphile_worker._private_jobs j ON j.task_id = t.id AND j.is_available AND j.run_at <= now()
      GROUP BY t.identifier
    $$
  `.execute(db)
  await sql`REVOKE ALL ON FUNCTION job_queue_depth() FROM PUBLIC`.execute(db)
  await sql`GRANT EXECUTE ON FUNCTION job_queue_depth() TO todo_app`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION job_queue_depth()`.execute(db)
}
