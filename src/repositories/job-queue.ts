/**
 * The job queue as a whole, for the metrics: not user data, so no owner. The queue's tables
 * are their owner's; the service's role reads them only through job_queue_depth()
 * (db/migrations/202611290200_job_queue_depth.ts).
 */
import { type Kysely, sql } from 'kysely'
import type { Database } from '../database/types.js'

/** Jobs due now and waiting for a worker (not running, attempts left), by task; every task the queue knows, 0 included. */
export async function depth (db: Kysely<Database>): Promise<Array<{ task: string, jobs: number }>> {
  const { rows } = await sql<{ task: string, jobs: number }>`SELECT task, jobs::integer AS jobs FROM job_queue_depth()`.execute(db)
  return rows
}
