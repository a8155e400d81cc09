/**
 * The user's time zone (API.md part two, "Time zones and due dates"): an IANA name as the user
 * sent it, validated by the service against its runtime's zone database; null until set.
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users DROP COLUMN time_zone`.execute(db)
}
