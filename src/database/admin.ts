/**
 * Databases on a server, as its administrator: what start-up, the test runner and the bench
 * need (the one place CREATE and DROP DATABASE are written).
 */
import { sql } from 'kysely'
import { createDatabase } from './create.js'

/** The same PostgreSQL server, another database: `postgres://…/<database>`. */
export function withDatabase (url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = '/' + encodeURIComponent(database)
  return parsed.toString()
}

async function asAdmin (adminUrl: string, work: (admin: ReturnType<typeof createDatabase>) => Promise<void>): Promise<void> {
  const admin = createDatabase({ url: adminUrl, poolMax: 1 })
  try {
    await work(admin)
  } finally {
    await admin.destroy()
  }
}

/** Creates the database unless it exists; returns its URL. */
export async function ensureDatabase (adminUrl: string, name: string): Promise<string> {
  await asAdmin(adminUrl, async (admin) => {
    const exists = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`.execute(admin)
    if (exists.rows.length === 0) await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin)
  })
  return withDatabase(adminUrl, name)
}

/** Drops the database (closing its connections) when it exists. */
export async function dropDatabase (adminUrl: string, name: string): Promise<void> {
  await asAdmin(adminUrl, async (admin) => {
    await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(admin)
  })
}

/**
 * A new, empty database, or a copy of `template` (CREATE DATABASE … TEMPLATE: fast), replacing
 * any database of that name; returns its URL.
 */
export async function recreateDatabase (adminUrl: string, name: string, template?: string): Promise<string> {
  await dropDatabase(adminUrl, name)
  await asAdmin(adminUrl, async (admin) => {
    await (template === undefined
      ? sql`CREATE DATABASE ${sql.id(name)}`
      : sql`CREATE DATABASE ${sql.id(name)} TEMPLATE ${sql.id(template)}`).execute(admin)
  })
  return withDatabase(adminUrl, name)
}
