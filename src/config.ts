/**
 * loadConfig(env) → a frozen Config. The environment is the only source of configuration;
 * every variable is validated here, once, and every problem is reported together, one line
 * each, before the service starts. Pure: reads nothing but the env object it is given.
 */
import envSchema from 'env-schema'
import ipaddr from 'ipaddr.js'
import { createPublicKey } from 'node:crypto'
import { isAbsolute, resolve } from 'node:path'

/** Every variable with its one-line description (also the README's configuration table). */
const schema = {
  type: 'object',
  properties: {
    NODE_ENV: { type: 'string', enum: ['development', 'production', 'test'], default: 'development', description: 'Runtime mode; `production` forbids the embedded database and the local JWT secret.' },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Interface to listen on (`0.0.0.0` in a container).' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on (`0` picks a free one).' },
    WEB_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 64, default: 1, description: 'Worker processes sharing the port (node:cluster); 1 serves in the main process.' },
    SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 10000, description: 'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway.' },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 30000, description: 'Longest time a client may take to send a whole request (0: no limit).' },
    EVENT_LOOP_DELAY_LIMIT_MS: { type: 'integer', minimum: 0, maximum: 60000, default: 1000, description: 'Event-loop delay above which /api answers 503 instead of queueing (0: off).' },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'pino log level.' },
    LOG_FORMAT: { type: 'string', enum: ['auto', 'json', 'pretty'], default: 'auto', description: 'Log lines as `json` (one object a line) or `pretty` (human-readable, pino-pretty); `auto`: pretty when stdout is a terminal, JSON otherwise.' },
    TRUST_PROXY: { type: 'boolean', default: false, description: 'Trust `X-Forwarded-*` headers from a reverse proxy.' },
    RESPONSE_VALIDATION: { type: 'boolean', description: 'Check every response against openapi.yaml before it leaves; one that breaks it is logged and answered 500. Unset: on, but off with NODE_ENV=production (it costs throughput).' },
    CORS_ORIGINS: { type: 'string', description: 'Web origins whose pages may call the API from a browser (comma list of `scheme://host[:port]`, e.g. `https://app.example.com`); unset: no cross-origin access.' },
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', description: 'PostgreSQL connection string. Unset: an embedded PostgreSQL is started in `DATA_DIR`.' },
    DATABASE_DIRECT_URL: { type: 'string', pattern: '^postgres(ql)?://', description: 'A connection straight to PostgreSQL, not through a transaction-mode pooler, for what needs a session of its own: LISTEN (event fan-out), the job queue and migrations (advisory lock). Unset: DATABASE_URL.' },
    DATABASE_PREPARED_STATEMENTS: { type: 'boolean', default: true, description: 'Named prepared statements on the service\'s connections (each statement parsed and planned once per connection). `false` behind a transaction-mode pooler that does not track them (PgBouncer before 1.21, or without max_prepared_statements).' },
    DATABASE_POOL_MAX: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Connections in the pg pool of each process.' },
    DATABASE_STATEMENT_TIMEOUT_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 10000, description: 'PostgreSQL statement_timeout of the service\'s connections (0: none).' },
    DATA_DIR: { type: 'string', minLength: 1, default: '.data', description: 'Folder of the embedded PostgreSQL and the local JWT secret (local use only).' },
    EMBEDDED_PG_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 54329, description: 'Port of the embedded PostgreSQL (loopback only).' },
    MIGRATE_ON_START: { type: 'boolean', default: true, description: 'Apply pending migrations at start.' },
    RLS_ENABLED: { type: 'boolean', default: true, description: 'PostgreSQL row-level security: the service works as role `todo_app` and names the caller in every transaction. `false` skips the role and so the policies (for a database without them; the login role must then own the tables); the caller is named in every statement either way.' },
    JWT_SECRET: { type: 'string', minLength: 32, description: 'Shared secret for HS256/HS384/HS512 tokens (at least 32 characters).' },
    JWT_PUBLIC_KEY: { type: 'string', minLength: 1, description: 'PEM public key for RS256/ES256/EdDSA tokens.' },
    JWT_JWKS_URL: { type: 'string', pattern: '^https?://', description: 'JWKS endpoint; the whole key set is cached (10 minutes) and keys are chosen by `kid`.' },
    JWT_JWKS_COOLDOWN_MS: { type: 'integer', minimum: 0, maximum: 3600000, default: 30000, description: 'After a fetch of the key set, a token with an unknown `kid` is refused (401) without another fetch for this long: junk tokens cannot make the service hammer the identity provider; a rotated key is picked up once it has passed.' },
    JWT_JWKS_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60000, default: 5000, description: 'Time a fetch of the key set may take before it is abandoned (503 while no key set is at hand).' },
    JWT_ISSUER: { type: 'string', minLength: 1, description: 'Required `iss` claim, when set.' },
    JWT_AUDIENCE: { type: 'string', minLength: 1, description: 'Required `aud` claim, when set (comma list: any of them).' },
    JWT_ALGORITHMS: { type: 'string', pattern: '^[A-Za-z0-9]+(,[A-Za-z0-9]+)*$', description: 'Allowed algorithms (comma list); default: those of the key type. `none` is never accepted.' },
    JWT_CLOCK_TOLERANCE_S: { type: 'integer', minimum: 0, maximum: 300, default: 30, description: 'Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.' },
    RATE_LIMIT_REDIS_URL: { type: 'string', pattern: '^rediss?://', description: 'Redis for the rate-limit counters, shared by every process; unset: counters in each process.' },
    TRASH_RETENTION_DAYS: { type: 'number', exclusiveMinimum: 0, maximum: 36500, default: 30, description: 'Days a task stays in the trash before it is purged for good (fractions allowed).' },
    EVENTS_MAX_STREAMS_PER_USER: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Open event streams a user may hold at once, across every process (one more is 429).' },
    EVENTS_HEARTBEAT_MS: { type: 'integer', minimum: 100, maximum: 15000, default: 15000, description: 'Longest silence on an event stream before a comment line keeps it open (at most 15 s).' },
    SYNC_RETENTION_DAYS: { type: 'number', exclusiveMinimum: 0, maximum: 36500, default: 30, description: 'Days a sync token stays valid (older: 410 sync-token-expired) and the change record keeps deletions and events (a day longer).' },
    TRASH_PURGE_INTERVAL_MS: { type: 'integer', minimum: 0, maximum: 86400000, default: 3600000, description: 'How often each process purges expired trash, then expired events (0: never; one trash purge runs at a time across processes).' },
    RATE_LIMIT_PER_MINUTE: { type: 'integer', minimum: 0, default: 1200, description: 'Requests per user per minute; `0` turns rate limiting off.' },
    RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: { type: 'integer', minimum: 0, default: 120, description: 'Failed authentications (no token, a bad one) per client address per minute; past it, 429 instead of 401. The address is the connection\'s, or with TRUST_PROXY the client\'s as the proxy reports it. `0` turns it off.' },
    WEBHOOK_RETRY_DELAYS_S: { type: 'string', pattern: '^ *[0-9]{1,7} *(, *[0-9]{1,7} *){0,19}$', default: '5,30,120,600,3600,21600,86400', description: 'Seconds before each retry of a failed webhook delivery, counted from the end of the failed attempt (comma list); after the last one fails the webhook is disabled.' },
    WEBHOOK_ALLOW_PRIVATE_TARGETS: { type: 'boolean', default: false, description: 'Let webhooks target private, loopback and link-local addresses and `http` URLs (local development and tests only).' },
    JOB_CONCURRENCY: { type: 'integer', minimum: 0, maximum: 1000, default: 10, description: 'Background jobs (webhook deliveries) each process runs at once from the queue in PostgreSQL (0: this process runs none).' },
    JOB_LAPSE_MS: { type: 'integer', minimum: 1000, maximum: 3600000, default: 60000, description: 'How long a process running jobs may stay silent (it says it is alive every quarter of this) before another process takes back the jobs it had started.' },
    IMPORT_MAX_BYTES: { type: 'integer', minimum: 1048576, maximum: 1073741824, default: 52428800, description: 'Largest body `importAccount` takes, in bytes (default 50 MiB; more is 413); the document is parsed in memory.' },
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, description: 'Port of the metrics endpoint (`GET /metrics`, Prometheus text format), never the API\'s; unset: no metrics are kept or served. `0` picks a free one.' },
    METRICS_HOST: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Interface the metrics endpoint listens on; any but a loopback address needs METRICS_TOKEN.' },
    METRICS_TOKEN: { type: 'string', minLength: 16, pattern: '^[!-~]+$', description: 'Bearer token a scrape must send (`Authorization: Bearer …`; at least 16 visible ASCII characters); required unless METRICS_HOST is a loopback address.' }
  }
} as const

export type EnvVariable = keyof typeof schema.properties
export const envVariables = schema.properties

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

export type JwtKeySource =
  | { kind: 'secret', secret: string }
  | { kind: 'public-key', pem: string }
  | { kind: 'jwks', url: string, cooldownMs: number, timeoutMs: number }
  /** Local use on the embedded database only: a secret generated once into DATA_DIR. */
  | { kind: 'local' }

export interface Config {
  env: 'development' | 'production' | 'test'
  server: { host: string, port: number, trustProxy: boolean, corsOrigins: string[], responseValidation: boolean, workers: number, shutdownGraceMs: number, requestTimeoutMs: number, eventLoopDelayLimitMs: number }
  log: { level: string, format: LogFormatSetting }
  database: {
    /** undefined: start the embedded PostgreSQL. */
    url: string | undefined
    /** For sessions of their own (LISTEN, the job queue, migrations); undefined: `url`. */
    directUrl: string | undefined
    /** Named prepared statements on the pool's connections (off behind a pooler that loses them). */
    preparedStatements: boolean
    poolMax: number
    statementTimeoutMs: number
    migrateOnStart: boolean
    /** Work as role todo_app, each request in a transaction that sets app.user_id. */
    rowLevelSecurity: boolean
  }
  embedded: { dataDir: string, port: number }
  jwt: {
    key: JwtKeySource
    algorithms: string[]
    issuer: string | undefined
    audience: string[] | undefined
    clockToleranceSeconds: number
  }
  rateLimit: { perMinute: number, unauthenticatedPerMinute: number, redisUrl: string | undefined }
  trash: { retentionDays: number, purgeIntervalMs: number }
  sync: { retentionDays: number }
  events: { maxStreamsPerUser: number, heartbeatMs: number }
  webhooks: { retryDelaysS: number[], allowPrivateTargets: boolean }
  jobs: { concurrency: number, lapseMs: number }
  account: { importMaxBytes: number }
  /** undefined: METRICS_PORT unset, no metrics kept or served. */
  metrics: { port: number, host: string, token: string | undefined } | undefined
}

/**
 * A Config once the process has resolved what the environment left open (src/bootstrap.ts):
 * the database URL is known (the embedded server's, when DATABASE_URL was unset) and the JWT
 * key is real (the local-use secret read from DATA_DIR). The app is built only from this.
 */
export interface ResolvedConfig extends Omit<Config, 'database' | 'jwt'> {
  database: Omit<Config['database'], 'url' | 'directUrl'> & { url: string, directUrl: string }
  jwt: Omit<Config['jwt'], 'key'> & { key: Exclude<JwtKeySource, { kind: 'local' }> }
}

/** The config as it is, when nothing is left to resolve (DATABASE_URL and a JWT key set); else throws. */
export function resolvedAlready (config: Readonly<Config>): Readonly<ResolvedConfig> {
  const { url } = config.database
  const { key } = config.jwt
  if (url === undefined || key.kind === 'local') throw new Error('the configuration needs resolving first (src/bootstrap.ts): no DATABASE_URL or no JWT key')
  return { ...config, database: { ...config.database, url, directUrl: config.database.directUrl ?? url }, jwt: { ...config.jwt, key } }
}

export type LogFormatSetting = 'auto' | 'json' | 'pretty'

/**
 * The log format to use: LOG_FORMAT, or with `auto` pretty for a person at a terminal and
 * JSON for whatever else reads stdout (a log collector, a pipe). Pure: the caller says
 * whether stdout is a terminal.
 */
export function chooseLogFormat (setting: LogFormatSetting, stdoutIsTerminal: boolean): 'json' | 'pretty' {
  if (setting !== 'auto') return setting
  return stdoutIsTerminal ? 'pretty' : 'json'
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  - ${p}`).join('\n'))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

interface RawEnv {
  NODE_ENV: Config['env']
  HOST: string
  PORT: number
  WEB_CONCURRENCY: number
  SHUTDOWN_GRACE_MS: number
  REQUEST_TIMEOUT_MS: number
  EVENT_LOOP_DELAY_LIMIT_MS: number
  DATABASE_STATEMENT_TIMEOUT_MS: number
  LOG_LEVEL: string
  LOG_FORMAT: LogFormatSetting
  TRUST_PROXY: boolean
  CORS_ORIGINS?: string
  RESPONSE_VALIDATION?: boolean
  DATABASE_URL?: string
  DATABASE_DIRECT_URL?: string
  DATABASE_PREPARED_STATEMENTS: boolean
  DATABASE_POOL_MAX: number
  DATA_DIR: string
  EMBEDDED_PG_PORT: number
  MIGRATE_ON_START: boolean
  RLS_ENABLED: boolean
  JWT_SECRET?: string
  JWT_PUBLIC_KEY?: string
  JWT_JWKS_URL?: string
  JWT_JWKS_COOLDOWN_MS: number
  JWT_JWKS_TIMEOUT_MS: number
  JWT_ISSUER?: string
  JWT_AUDIENCE?: string
  JWT_ALGORITHMS?: string
  JWT_CLOCK_TOLERANCE_S: number
  RATE_LIMIT_PER_MINUTE: number
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: number
  RATE_LIMIT_REDIS_URL?: string
  TRASH_RETENTION_DAYS: number
  TRASH_PURGE_INTERVAL_MS: number
  SYNC_RETENTION_DAYS: number
  EVENTS_MAX_STREAMS_PER_USER: number
  EVENTS_HEARTBEAT_MS: number
  WEBHOOK_RETRY_DELAYS_S: string
  WEBHOOK_ALLOW_PRIVATE_TARGETS: boolean
  JOB_CONCURRENCY: number
  JOB_LAPSE_MS: number
  IMPORT_MAX_BYTES: number
  METRICS_PORT?: number
  METRICS_HOST: string
  METRICS_TOKEN?: string
}

function validateEnv (env: Record<string, string | undefined>): RawEnv {
  // Empty strings count as unset, as a shell's `VAR=` usually means "no value".
  const data = Object.fromEntries(Object.entries(env).filter(([key, value]) => key in schema.properties && value !== undefined && value !== ''))
  try {
    return envSchema<RawEnv>({ schema: structuredClone(schema) as never, data, env: false })
  } catch (error) {
    const errors = (error as { errors?: Array<{ instancePath: string, message?: string, params: Record<string, unknown> }> }).errors
    if (errors === undefined) throw error
    throw new ConfigError(errors.map((e) => `${e.instancePath.replace(/^\//, '') || 'environment'} ${e.message ?? 'is invalid'}`))
  }
}

function pickKeySource (raw: RawEnv, problems: string[]): JwtKeySource {
  const sources: JwtKeySource[] = []
  if (raw.JWT_SECRET !== undefined) sources.push({ kind: 'secret', secret: raw.JWT_SECRET })
  if (raw.JWT_PUBLIC_KEY !== undefined) {
    const pem = raw.JWT_PUBLIC_KEY.replace(/\\n/g, '\n')
    try {
      createPublicKey(pem)
    } catch {
      problems.push('JWT_PUBLIC_KEY is not a readable PEM public key')
    }
    sources.push({ kind: 'public-key', pem })
  }
  if (raw.JWT_JWKS_URL !== undefined) sources.push({ kind: 'jwks', url: raw.JWT_JWKS_URL, cooldownMs: raw.JWT_JWKS_COOLDOWN_MS, timeoutMs: raw.JWT_JWKS_TIMEOUT_MS })
  if (sources.length > 1) {
    problems.push('set exactly one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL, not several')
  }
  const [source] = sources
  if (source !== undefined) return source
  // API.md: only local use on the embedded database may run without a configured key.
  if (raw.DATABASE_URL === undefined && raw.NODE_ENV !== 'production') return { kind: 'local' }
  problems.push('set one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL (a generated local secret is only for the embedded database outside production)')
  return { kind: 'local' }
}

function pickAlgorithms (raw: RawEnv, key: JwtKeySource, problems: string[]): string[] {
  const allowed: readonly string[] = key.kind === 'secret' || key.kind === 'local' ? HMAC_ALGORITHMS : PUBLIC_KEY_ALGORITHMS
  if (raw.JWT_ALGORITHMS === undefined) return [...allowed]
  const asked = raw.JWT_ALGORITHMS.split(',')
  // Pinning algorithms to the key type closes the classic confusion attacks (RFC 8725 §3.1):
  // `none`, and an HMAC algorithm verified with a public key's text as the secret.
  const wrong = asked.filter((alg) => !allowed.includes(alg))
  if (wrong.length > 0) {
    problems.push(`JWT_ALGORITHMS ${wrong.join(', ')} cannot be used with ${key.kind === 'secret' || key.kind === 'local' ? 'a shared secret' : 'a public key'} (allowed: ${allowed.join(', ')})`)
  }
  return asked
}

/**
 * CORS_ORIGINS as exact origins. Each must already be in the form a browser sends in `Origin`
 * (lowercase scheme and host, no default port, no path or trailing slash), since requests are
 * matched by string equality; `*` is refused: the service names the apps it serves.
 */
function pickCorsOrigins (raw: RawEnv, problems: string[]): string[] {
  if (raw.CORS_ORIGINS === undefined) return []
  const origins = raw.CORS_ORIGINS.split(',').map((o) => o.trim()).filter((o) => o !== '')
  for (const origin of origins) {
    let normal: string | undefined
    try {
      const url = new URL(origin)
      if (url.protocol === 'http:' || url.protocol === 'https:') normal = url.origin
    } catch {}
    if (normal !== origin) problems.push(`CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin${normal === undefined ? ' (http(s)://host[:port])' : `; write it as ${normal}`}`)
  }
  return origins
}

/** A loopback address, or `localhost`: only this machine reaches it. */
function isLoopback (host: string): boolean {
  if (host === 'localhost') return true
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback'
}

/**
 * The metrics endpoint, on a port of its own. Metrics say how busy the service is and which
 * operations fail, so they are not for anyone: off the loopback interface a token is required.
 */
function pickMetrics (raw: RawEnv, problems: string[]): Config['metrics'] {
  if (raw.METRICS_PORT === undefined) {
    if (raw.METRICS_TOKEN !== undefined) problems.push('METRICS_TOKEN is set but METRICS_PORT is not: set METRICS_PORT to serve metrics')
    return undefined
  }
  if (raw.METRICS_PORT !== 0 && raw.METRICS_PORT === raw.PORT) problems.push(`METRICS_PORT must differ from PORT (${raw.PORT}): metrics are never served on the API's port`)
  if (raw.METRICS_TOKEN === undefined && !isLoopback(raw.METRICS_HOST)) {
    problems.push(`METRICS_TOKEN is required when METRICS_HOST (${raw.METRICS_HOST}) is not a loopback address: whoever reaches it could read the metrics`)
  }
  return { port: raw.METRICS_PORT, host: raw.METRICS_HOST, token: raw.METRICS_TOKEN }
}

export function loadConfig (env: Record<string, string | undefined>): Readonly<Config> {
  const raw = validateEnv(env)
  const problems: string[] = []
  const key = pickKeySource(raw, problems)
  const algorithms = pickAlgorithms(raw, key, problems)
  const corsOrigins = pickCorsOrigins(raw, problems)
  const metrics = pickMetrics(raw, problems)
  if (raw.NODE_ENV === 'production' && raw.DATABASE_URL === undefined) {
    problems.push('DATABASE_URL is required in production (the embedded PostgreSQL is for local use)')
  }
  if (raw.DATABASE_DIRECT_URL !== undefined && raw.DATABASE_URL === undefined) {
    problems.push('DATABASE_DIRECT_URL needs DATABASE_URL (it is the direct way to the same database)')
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const config: Config = {
    env: raw.NODE_ENV,
    server: {
      host: raw.HOST,
      port: raw.PORT,
      trustProxy: raw.TRUST_PROXY,
      corsOrigins,
      responseValidation: raw.RESPONSE_VALIDATION ?? raw.NODE_ENV !== 'production',
      workers: raw.WEB_CONCURRENCY,
      shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
      requestTimeoutMs: raw.REQUEST_TIMEOUT_MS,
      eventLoopDelayLimitMs: raw.EVENT_LOOP_DELAY_LIMIT_MS
    },
    log: { level: raw.LOG_LEVEL, format: raw.LOG_FORMAT },
    database: { url: raw.DATABASE_URL, directUrl: raw.DATABASE_DIRECT_URL, preparedStatements: raw.DATABASE_PREPARED_STATEMENTS, poolMax: raw.DATABASE_POOL_MAX, statementTimeoutMs: raw.DATABASE_STATEMENT_TIMEOUT_MS, migrateOnStart: raw.MIGRATE_ON_START, rowLevelSecurity: raw.RLS_ENABLED },
    embedded: { dataDir: isAbsolute(raw.DATA_DIR) ? raw.DATA_DIR : resolve(raw.DATA_DIR), port: raw.EMBEDDED_PG_PORT },
    jwt: {
      key,
      algorithms,
      issuer: raw.JWT_ISSUER,
      audience: raw.JWT_AUDIENCE?.split(',').map((a) => a.trim()).filter((a) => a !== ''),
      clockToleranceSeconds: raw.JWT_CLOCK_TOLERANCE_S
    },
    rateLimit: { perMinute: raw.RATE_LIMIT_PER_MINUTE, unauthenticatedPerMinute: raw.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE, redisUrl: raw.RATE_LIMIT_REDIS_URL },
    trash: { retentionDays: raw.TRASH_RETENTION_DAYS, purgeIntervalMs: raw.TRASH_PURGE_INTERVAL_MS },
    sync: { retentionDays: raw.SYNC_RETENTION_DAYS },
    events: { maxStreamsPerUser: raw.EVENTS_MAX_STREAMS_PER_USER, heartbeatMs: raw.EVENTS_HEARTBEAT_MS },
    webhooks: {
      retryDelaysS: raw.WEBHOOK_RETRY_DELAYS_S.split(',').map((delay) => Number(delay.trim())),
      allowPrivateTargets: raw.WEBHOOK_ALLOW_PRIVATE_TARGETS
    },
    jobs: { concurrency: raw.JOB_CONCURRENCY, lapseMs: raw.JOB_LAPSE_MS },
    account: { importMaxBytes: raw.IMPORT_MAX_BYTES },
    metrics
  }
  return deepFreeze(config)
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
