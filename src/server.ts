/**
 * Process entry: load the configuration, start the embedded PostgreSQL when no DATABASE_URL
 * is set, apply migrations, then serve — in this process, or with WEB_CONCURRENCY > 1 in that
 * many node:cluster workers sharing the port. SIGINT/SIGTERM close everything gracefully
 * (close-with-grace): the app stops accepting, finishes in-flight requests, closes its pool,
 * and the embedded database stops last. With METRICS_PORT, the metrics endpoint listens beside
 * the API (src/metrics/): in the serving process, or in the primary for all its workers.
 */
import './node-version.js'
import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import pinoPretty from 'pino-pretty'
import { buildApp } from './app.js'
import { bootstrap } from './bootstrap.js'
import { chooseLogFormat, type Config, ConfigError, loadConfig, type ResolvedConfig } from './config.js'
import { shareWithPrimary, workersMetrics } from './metrics/cluster.js'
import { type MetricsEndpoint, registryMetrics, serveMetrics } from './metrics/endpoint.js'

function fail (message: string): never {
  process.stderr.write(message + '\n')
  process.exit(1)
}

function warnLocalSecret (dataDir: string, created: boolean): void {
  process.stderr.write([
    '',
    '  WARNING: no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL is set. For local use only, this',
    `  service ${created ? 'generated' : 'uses'} a secret kept in ${dataDir}/jwt-secret.`,
    '  Mint a token for it with:   npm run token -- <user-id>',
    '  and paste it into Authorize at /docs. Never run production this way.',
    ''
  ].join('\n') + '\n')
}

/**
 * pino options for buildApp: JSON lines (buildApp's default) for machines, or human-readable
 * lines for a person at a terminal (LOG_FORMAT, see chooseLogFormat). The pretty stream runs
 * in this thread and writes synchronously, so its lines keep their order with the service's
 * other messages; a terminal never needs the throughput of JSON logging.
 */
function loggerOptions (config: Readonly<Config>): object {
  if (chooseLogFormat(config.log.format, process.stdout.isTTY === true) === 'json') return {}
  return { stream: pinoPretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname', sync: true }) }
}

/** Serves in this process until a signal; then closes the app and (if any) the embedded database. */
async function serve (config: Readonly<ResolvedConfig>, stopDatabase: () => Promise<void>): Promise<void> {
  const app = await buildApp(config, { logger: loggerOptions(config) })
  let metricsEndpoint: MetricsEndpoint | undefined
  closeWithGrace({ delay: config.server.shutdownGraceMs }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing')
    // First: a scrape must not read the pool while it closes.
    await metricsEndpoint?.close()
    await app.close()
    await stopDatabase()
  })
  if (config.metrics !== undefined) {
    // A worker's metrics are served by the primary, added up with the other workers'.
    if (cluster.isWorker) shareWithPrimary(app.metrics)
    else {
      metricsEndpoint = await serveMetrics({
        ...config.metrics,
        render: registryMetrics(app.metrics),
        onError: (error) => { app.log.error({ err: error }, 'metrics could not be gathered') }
      })
      app.log.info(`metrics at ${metricsEndpoint.url}`)
    }
  }
  const address = await app.listen({ host: config.server.host, port: config.server.port })
  if (cluster.isPrimary) app.log.info(`API docs at ${address}/docs`)
}

/**
 * With WEB_CONCURRENCY > 1: every worker's metrics, added up, from the primary. Not closed at
 * shutdown: the primary exits once its workers have stopped, and until then a scrape sums
 * the workers still running.
 */
async function serveWorkersMetrics (metrics: NonNullable<Config['metrics']>): Promise<void> {
  const endpoint = await serveMetrics({
    ...metrics,
    render: workersMetrics(),
    onError: (error) => { process.stderr.write(`todo-contract: metrics could not be gathered: ${error instanceof Error ? error.message : String(error)}\n`) }
  })
  process.stdout.write(`todo-contract: metrics of every worker at ${endpoint.url}\n`)
}

/** Forks the workers (replacing any that dies), and on a signal stops them before the database. */
function supervise (workers: number, graceMs: number, env: Record<string, string>, stopDatabase: () => Promise<void>): void {
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
    await stopDatabase()
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
    // The primary resolved everything and passed it down (DATABASE_URL, JWT_SECRET): nothing to start.
    const { config: resolved, stop } = await bootstrap(config, { migrate: false, checkServiceRole: false })
    await serve(resolved, stop)
    return
  }
  const prepared = await bootstrap(config, { migrate: config.database.migrateOnStart, checkServiceRole: true })
  if (prepared.localSecret !== undefined) warnLocalSecret(config.embedded.dataDir, prepared.localSecret === 'created')
  if (config.server.workers <= 1) {
    await serve(prepared.config, prepared.stop)
    return
  }
  // Workers get what the primary resolved: the database URL and the JWT secret, if local.
  const key = prepared.config.jwt.key
  supervise(config.server.workers, config.server.shutdownGraceMs, {
    DATABASE_URL: prepared.config.database.url,
    DATABASE_DIRECT_URL: prepared.config.database.directUrl,
    MIGRATE_ON_START: 'false',
    ...(key.kind === 'secret' && prepared.localSecret !== undefined ? { JWT_SECRET: key.secret } : {})
  }, prepared.stop)
  process.stdout.write(`todo-contract: ${config.server.workers} workers on ${config.server.host}:${config.server.port}\n`)
  if (config.metrics !== undefined) await serveWorkersMetrics(config.metrics)
}

main().catch((error: unknown) => {
  fail(`todo-contract failed to start: ${error instanceof Error ? error.message : String(error)}`)
})
