/**
 * The schema, brought to the latest: first graphile-worker's own (schema `graphile_worker`:
 * the job queue, src/jobs/queue.ts, versioned by the library and installed by its
 * `runMigrations`), then Kysely's Migrator over db/migrations, some of which call into it.
 * Both take PostgreSQL locks, so several processes starting together apply each migration once.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runMigrations } from 'graphile-worker'
import { FileMigrationProvider, type Kysely, type MigrationResultSet, Migrator } from 'kysely'
import pg from 'pg'
import { queueLogger } from '../jobs/queue-logger.js'

/** db/migrations, from src/database (tsx) or dist/src/database (compiled) alike. */
const migrationFolder = fileURLToPath(new URL('../../db/migrations', import.meta.url))

export function createMigrator (db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) })
}

function check ({ error, results }: MigrationResultSet): string[] {
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error instanceof Error ? error.message : error)}`, { cause: error })
  }
  return (results ?? []).map((r) => r.migrationName)
}

/** Installs or updates graphile-worker's schema in the database at `url`. */
export async function installJobQueue (url: string): Promise<void> {
  const pgPool = new pg.Pool({ connectionString: url, max: 1, application_name: 'todo-contract migrate' })
  // An idle client's error (the server restarting) would otherwise be thrown from the pool.
  pgPool.on('error', () => {})
  pgPool.on('connect', (client) => { client.on('error', () => {}) })
  try {
    await runMigrations({ pgPool, logger: queueLogger(undefined) })
  } finally {
    await pgPool.end()
  }
}

/**
 * Applies every pending migration of the database `db` works on, which is at `url` (the job
 * queue's are applied through a connection of their own); returns the names Kysely applied.
 */
export async function migrateToLatest (db: Kysely<any>, url: string): Promise<string[]> {
  await installJobQueue(url)
  return check(await createMigrator(db).migrateToLatest())
}

/** Reverts the last applied migration; returns its name. */
export async function migrateDown (db: Kysely<any>): Promise<string[]> {
  return check(await createMigrator(db).migrateDown())
}
