/**
 * Process entry: load the configuration, start the embedded PostgreSQL when no DATABASE_URL
 * is set, apply migrations, build the app, listen; close everything on SIGINT/SIGTERM.
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ensureLocalSecret } from './auth/local-secret.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { createDatabase } from './database/create.js'
import { type EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded.js'
import { migrateToLatest } from './database/migrate.js'
import { ensureEmbeddedDatabase } from './database/embedded-database.js'

function fail (message: string): never {
  process.stderr.write(message + '\n')
  process.exit(1)
}

async function main (): Promise<void> {
  let config: Readonly<Config>
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message)
    throw error
  }

  let embedded: EmbeddedDatabase | undefined
  let databaseUrl = config.database.url
  if (databaseUrl === undefined) {
    embedded = await startEmbeddedPostgres({ dataDir: config.embedded.dataDir, port: config.embedded.port })
    databaseUrl = await ensureEmbeddedDatabase(embedded)
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
    const db = createDatabase({ url: databaseUrl, poolMax: 1 })
    try {
      await migrateToLatest(db)
    } finally {
      await db.destroy()
    }
  }

  const app = await buildApp({ ...config, database: { ...config.database, url: databaseUrl } })

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing')
    await app.close()
    await embedded?.stop()
  })

  const address = await app.listen({ host: config.server.host, port: config.server.port })
  app.log.info(`API docs at ${address}/docs`)
}

main().catch((error: unknown) => {
  fail(`todo-contract failed to start: ${error instanceof Error ? error.message : String(error)}`)
})
