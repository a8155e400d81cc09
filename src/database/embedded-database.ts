/** The service's own database on the embedded server, created on first start. */
import { sql } from 'kysely'
import { createDatabase } from './create.js'
import type { EmbeddedDatabase } from './embedded.js'

export const EMBEDDED_DATABASE = 'todo'

export async function ensureEmbeddedDatabase (embedded: EmbeddedDatabase, name = EMBEDDED_DATABASE): Promise<string> {
  const admin = createDatabase({ url: embedded.url, poolMax: 1 })
  try {
    const exists = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`.execute(admin)
    if (exists.rows.length === 0) await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin)
  } finally {
    await admin.destroy()
  }
  return embedded.urlFor(name)
}
