/**
 * Process entry: load the configuration, start the embedded PostgreSQL when no DATABASE_URL
 * is set, apply migrations, then serve — in this process, or with WEB_CONCURRENCY > 1 in that
 * many node:cluster workers sharing the port. SIGINT/SIGTERM close everything gracefully
 * (close-with-grace): the app stops accepting, finishes in-flight requests, closes its pool,
 * and the embedded database stops last.
 */
import './node-version.js'
import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ensureLocalSecret } from './auth/local-secret.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { createDatabase } from './database/create.js'
import { type EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded.js'
import { ensureEmbeddedDatabase } from './database/embedded-database.js'
import { isDatabaseUnavailable } from './database/errors.js'
import { migrateToLatest } from './database/migrate.js'
import { SERVICE_ROLE, serviceRoleLoopholes } from './database/service-role.js'

function fail (message: string): never {
  process.stderr.write(message + '\n')
  process.exit(1)
}

/**
 * Refuses to start when the role the service works as could get round row-level security.
 * A database that cannot be reached is left to the readiness probe unless the migrations
 * needed it anyway.
 */
async function confirmServiceRole (url: string, databaseRequired: boolean): Promise<void> {
  const db = createDatabase({ url, poolMax: 1, role: SERVICE_ROLE })
  let loopholes: string[]
  try {
    loopholes = await serviceRoleLoopholes(db)
  } catch (error) {
    if (databaseRequired || !isDatabaseUnavailable(error)) throw error
    process.stderr.write(`todo-contract: the database is unreachable; role ${SERVICE_ROLE} is checked at the next start\n`)
    return
  } finally {
    await db.destroy()
  }
  if (loopholes.length > 0) {
    throw new Error(`row-level security would not hold: ${loopholes.join('; ')}. Fix the roles, or set RLS_ENABLED=false`)
  }
}

/** Database, secret and schema ready: what the primary does once before anything serves. */
async function prepare (config: Readonly<Config>): Promise<{ config: Readonly<Config>, url: string, embedded: EmbeddedDatabase | undefined }> {
  let embedded: EmbeddedDatabase | undefined
  let url = config.database.url
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({ dataDir: config.embedded.dataDir, port: config.embedded.port })
    url = await ensureEmbeddedDatabase(embedded)
  }
  if (config.jwt.key.kind === 'local') {
    const { secret, created } = await ensureLocalSecret(config.embedded.dataDir)
    config = { ...config, jwt: { ...config.jwt, key: { kind: 'secret', secret } } }
    process.stderr.write([
      '',
      '  WARNING: no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL is set. For local use only, this',
      `  service ${created ? 'generated' : 'uses'} a secret kept in ${config.embedded.dataDir}/jwt-secret.`,
      '  Mint a token for it with:   npm run token -- <user-id>',
      '  and paste it into Authorize at /docs. Never run production this way.',
      ''
    ].join('\n') + '\n')
  }
  if (config.database.migrateOnStart) {
    const db = createDatabase({ url, poolMax: 1 })
    try {
      await migrateToLatest(db)
    } finally {
      await db.destroy()
    }
  }
  if (config.database.rowLevelSecurity) await confirmServiceRole(url, config.database.migrateOnStart)
  return { config: { ...config, database: { ...config.database, url } }, url, embedded }
}

/** Serves in this process until a signal; then closes the app and (if any) the embedded database. */
async function serve (config: Readonly<Config>, embedded?: EmbeddedDatabase): Promise<void> {
  const app = await buildApp(config)
  closeWithGrace({ delay: config.server.shutdownGraceMs }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing')
    await app.close()
    await embedded?.stop()
  })
  const address = await app.listen({ host: config.server.host, port: config.server.port })
  if (cluster.isPrimary) app.log.info(`API docs at ${address}/docs`)
}

/** Forks the workers (replacing any that dies), and on a signal stops them before the database. */
function supervise (workers: number, graceMs: number, env: Record<string, string>, embedded: EmbeddedDatabase | undefined): void {
  let closing = false
  const fork = (): void => { cluster.fork(env) }
  cluster.on('exit', (worker, code, signal) => {
    if (closing) return
    process.stderr.write(`worker ${worker.process.pid ?? '?'} exited (${signal ?? code}); starting another\n`)
    fork()
  })
  for (let i = 0; i < workers; i++) fork()
  closeWithGrace({ delay: graceMs + 2_000 }, async () => {
    closing = true
    await Promise.all(Object.values(cluster.workers ?? {}).map(async (worker) => {
      if (worker === undefined || worker.isDead()) return
      await new Promise<void>((resolve) => { worker.once('exit', () => { resolve() }); worker.kill('SIGTERM') })
    }))
    await embedded?.stop()
  })
}

async function main (): Promise<void> {
  let config: Readonly<Config>
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message)
    throw error
  }
  if (cluster.isWorker) {
    await serve(config)
    return
  }
  const prepared = await prepare(config)
  if (config.server.workers <= 1) {
    await serve(prepared.config, prepared.embedded)
    return
  }
  // Workers get what the primary resolved: the database URL and the JWT secret, if local.
  const key = prepared.config.jwt.key
  supervise(config.server.workers, config.server.shutdownGraceMs, {
    DATABASE_URL: prepared.url,
    MIGRATE_ON_START: 'false',
    ...(key.kind === 'secret' && config.jwt.key.kind === 'local' ? { JWT_SECRET: key.secret } : {})
  }, prepared.embedded)
  process.stdout.write(`todo-contract: ${config.server.workers} workers on ${config.server.host}:${config.server.port}\n`)
}

main().catch((error: unknown) => {
  fail(`todo-contract failed to start: ${error instanceof Error ? error.message : String(error)}`)
})
