/**
 * What every process does before it serves or works, in one place: the server, each worker,
 * and every script (migrate, seed, token, bench, the test runner).
 *
 * 1. A PostgreSQL server: DATABASE_URL's, or the embedded one (src/local/) in DATA_DIR, with
 *    the service's database created on it the first time.
 * 2. The JWT key: the configured one, or for local use the secret generated once into DATA_DIR.
 * 3. Optionally the migrations, and the check that the service role is confined by row-level
 *    security.
 * The result is a ResolvedConfig (nothing left open) and `stop()`, which stops the embedded
 * server when this process started one.
 */
import { sql } from 'kysely'
import { type Config, type ResolvedConfig, resolvedAlready } from './config.js'
import { ensureDatabase } from './database/admin.js'
import { createDatabase } from './database/create.js'
import { isDatabaseUnavailable } from './database/errors.js'
import { migrateToLatest } from './database/migrate.js'
import { SERVICE_ROLE, serviceRoleLoopholes } from './database/service-role.js'
import { startEmbeddedPostgres } from './local/embedded-postgres.js'
import { ensureLocalSecret } from './local/local-secret.js'

/** The service's database on the embedded server. */
export const EMBEDDED_DATABASE = 'todo'

export interface DatabaseServer {
  /** A database on the server to administer it from (the embedded server's `postgres`, or the URL given). */
  adminUrl: string
  embedded: boolean
  stop: () => Promise<void>
}

/** The server at `url`, or the embedded one in `dataDir` when there is no URL (started now). */
export async function openDatabaseServer ({ url, dataDir, port }: { url: string | undefined, dataDir: string, port: number }): Promise<DatabaseServer> {
  if (url !== undefined) return { adminUrl: url, embedded: false, stop: async () => {} }
  const server = await startEmbeddedPostgres({ dataDir, port })
  return { adminUrl: server.url, embedded: true, stop: server.stop }
}

export interface BootstrapSteps {
  /** Apply pending migrations. */
  migrate: boolean
  /** Refuse a service role that could get round row-level security (when it is on). */
  checkServiceRole: boolean
}

export interface Bootstrapped {
  config: Readonly<ResolvedConfig>
  /** For local use without a configured key: whether the secret in DATA_DIR was made now. */
  localSecret: 'created' | 'existing' | undefined
  stop: () => Promise<void>
}

/**
 * Refuses to start when the role the service works as could get round row-level security.
 * A database that cannot be reached is left to the readiness probe unless the migrations
 * needed it anyway.
 */
async function confirmServiceRole (url: string, preparedStatements: boolean, databaseRequired: boolean): Promise<void> {
  // On the service's own way to the database (a pooler, maybe), as its pool will go.
  const db = createDatabase({ url, poolMax: 1, role: SERVICE_ROLE, preparedStatements })
  let loopholes: string[]
  try {
    loopholes = await serviceRoleLoopholes(db)
  } catch (error) {
    if (databaseRequired || !isDatabaseUnavailable(error)) throw error
    process.stderr.write(`todo-contract: the database is unreachable (${error instanceof Error ? error.message : String(error)}); role ${SERVICE_ROLE} is checked at the next start\n`)
    return
  } finally {
    await db.destroy()
  }
  if (loopholes.length > 0) {
    throw new Error(`row-level security would not hold: ${loopholes.join('; ')}. Fix the roles, or set RLS_ENABLED=false`)
  }
}

/** The configured JWT key, or for local use the secret kept in DATA_DIR (made the first time). */
export async function resolveJwtKey (config: Readonly<Config>): Promise<{ key: ResolvedConfig['jwt']['key'], localSecret: Bootstrapped['localSecret'] }> {
  const { key } = config.jwt
  if (key.kind !== 'local') return { key, localSecret: undefined }
  const { secret, created } = await ensureLocalSecret(config.embedded.dataDir)
  return { key: { kind: 'secret', secret }, localSecret: created ? 'created' : 'existing' }
}

export async function bootstrap (config: Readonly<Config>, steps: BootstrapSteps): Promise<Bootstrapped> {
  const server = await openDatabaseServer({ url: config.database.url, ...config.embedded })
  try {
    const url = server.embedded ? await ensureDatabase(server.adminUrl, EMBEDDED_DATABASE) : server.adminUrl
    // Migrations take a session-level advisory lock: straight to PostgreSQL, never through a
    // transaction-mode pooler (which could hand the unlock to another session).
    const directUrl = server.embedded ? url : config.database.directUrl ?? url
    const { key, localSecret } = await resolveJwtKey(config)
    if (steps.migrate) {
      const db = createDatabase({ url: directUrl, poolMax: 1 })
      try {
        await migrateToLatest(db, directUrl)
      } finally {
        await db.destroy()
      }
    }
    if (steps.checkServiceRole && config.database.rowLevelSecurity) await confirmServiceRole(url, config.database.preparedStatements, steps.migrate)
    const resolved = resolvedAlready({ ...config, database: { ...config.database, url, directUrl }, jwt: { ...config.jwt, key } })
    return { config: resolved, localSecret, stop: server.stop }
  } catch (error) {
    await server.stop()
    throw error
  }
}

/** The server's version, as the test runner and the bench print it. */
export async function serverVersion (url: string): Promise<string> {
  const db = createDatabase({ url, poolMax: 1 })
  try {
    const { rows } = await sql<{ server_version: string }>`SHOW server_version`.execute(db)
    return rows[0]?.server_version ?? '?'
  } finally {
    await db.destroy()
  }
}
