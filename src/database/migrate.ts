/**
 * Kysely's Migrator over db/migrations. It takes a PostgreSQL advisory lock, so several
 * processes starting together apply each migration once.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileMigrationProvider, type Kysely, type MigrationResultSet, Migrator } from 'kysely'

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

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest (db: Kysely<any>): Promise<string[]> {
  return check(await createMigrator(db).migrateToLatest())
}

/** Reverts the last applied migration; returns its name. */
export async function migrateDown (db: Kysely<any>): Promise<string[]> {
  return check(await createMigrator(db).migrateDown())
}
