/**
 * buildApp(config, deps?) → a ready-to-listen Fastify instance. Registers the plugins in a
 * fixed order (ids and errors first, so everything after them is covered); never listens.
 */
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import type { ResolvedConfig } from './config.js'
import { createTokenVerifier, type TokenVerifier } from './auth/verifier.js'
import { createValidatorCompiler } from './contract/validators.js'
import type { DatabaseHandle } from './database/create.js'
import auth from './plugins/auth.js'
import bodyParsers from './plugins/body-parsers.js'
import contractRoutes from './plugins/contract-routes.js'
import cors from './plugins/cors.js'
import database from './plugins/database.js'
import { JOBS_ROLE } from './database/service-role.js'
import cursors from './plugins/cursors.js'
import syncTokens from './plugins/sync-tokens.js'
import docs, { DOCS_ROUTES } from './plugins/docs.js'
import idempotency from './plugins/idempotency.js'
import overload from './plugins/overload.js'
import problems, { sendProblem } from './plugins/problems.js'
import { ApiProblem } from './errors.js'
import security from './plugins/security.js'
import { serializeRequest } from './plugins/request-log.js'
import rateLimit from './plugins/rate-limit.js'
import requestId, { genRequestId } from './plugins/request-id.js'
import unusedConnections from './plugins/unused-connections.js'
import responseValidation from './plugins/response-validation.js'
import metrics from './plugins/metrics.js'
import { handlers } from './routes/index.js'
import retention from './jobs/retention.js'
import eventHub from './events/hub.js'
import streamWakeups from './events/wakeups.js'
import jobQueue from './jobs/queue.js'
import reminderJobs from './jobs/reminders.js'
import webhookJobs from './jobs/webhooks.js'
import type { ResolveHost } from './jobs/webhook-targets.js'

/** API.md: bodies over 1 MiB are 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024

export interface AppDependencies {
  /** A database shared with the caller (tests); otherwise the app opens and closes its own pool. */
  database?: DatabaseHandle
  /** Overrides the verifier built from config.jwt (the JWKS key resolver lives here in tests). */
  verifyToken?: TokenVerifier
  /** false, or pino options merged over the defaults (JSON logs at config.log.level, credentials redacted). */
  logger?: boolean | object
  /** Host name resolution for webhook targets (tests); otherwise the system's (dns.lookup). */
  webhookResolve?: ResolveHost
  /** How long an event stream's registration outlives its last renewal (tests shorten it); otherwise 60 s. */
  streamRegistrationTtlSeconds?: number
}

export async function buildApp (config: Readonly<ResolvedConfig>, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const loggerOptions = {
    level: config.log.level,
    // Never log credentials: the Authorization header is redacted wherever it appears.
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    serializers: { req: serializeRequest }
  }
  const app = Fastify({
    logger: deps.logger === false ? false : { ...loggerOptions, ...(typeof deps.logger === 'object' ? deps.logger : {}) },
    genReqId: genRequestId,
    requestIdHeader: false,
    // A batch's operations run as in-process requests (request.injectPart): they log under the
    // batch's request id, but no access lines of their own, as if a client had sent them.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: (request) => (request as { batchPart?: unknown }).batchPart != null }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Slow clients (slowloris) cannot hold a connection forever.
    requestTimeout: config.server.requestTimeoutMs,
    trustProxy: config.server.trustProxy,
    // The contract's schemas are JSON Schema 2020-12; see contract/validators.ts.
    schemaErrorFormatter: (errors, dataVar) => Object.assign(new Error(`${dataVar} does not match the contract`), { validation: errors, validationContext: dataVar }),
    // A user id of 255 characters can be 3 KiB once percent-encoded: the schema, not the
    // router, bounds parameters, so the contract's 400 answers overlong ones.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 4096 },
    // Malformed URLs (bad percent-encoding) and overlong parameters never reach the error
    // handler: Fastify answers them before routing (and before any hook: hence the request id
    // set here), so they are turned into problems here.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id)
      sendProblem(request, reply, new ApiProblem('validation-failed', 'The URL is not valid.', { errors: [{ parameter: 'path', detail: error.message }] }))
    }
  })
  app.setValidatorCompiler(createValidatorCompiler())

  await app.register(requestId)
  await app.register(unusedConnections)
  await app.register(problems)
  await app.register(bodyParsers)
  await app.register(security)
  // Before auth and rate limiting: their onRequest hooks never see a preflight.
  if (config.server.corsOrigins.length > 0) await app.register(cors, { origins: config.server.corsOrigins })
  await app.register(database, { url: config.database.url, poolMax: config.database.poolMax, statementTimeoutMs: config.database.statementTimeoutMs, rowLevelSecurity: config.database.rowLevelSecurity, preparedStatements: config.database.preparedStatements, database: deps.database })
  await app.register(cursors)
  await app.register(syncTokens, { retentionDays: config.sync.retentionDays })
  await app.register(idempotency)
  // Before the routes (each takes the hooks there are when it is made): every request is timed.
  if (config.metrics !== undefined) await app.register(metrics)
  await app.register(overload, { maxEventLoopDelayMs: config.server.eventLoopDelayLimitMs })
  await app.register(auth, { verifyToken: deps.verifyToken ?? createTokenVerifier(config.jwt) })
  await app.register(rateLimit, { perMinute: config.rateLimit.perMinute, unauthenticatedPerMinute: config.rateLimit.unauthenticatedPerMinute, redisUrl: config.rateLimit.redisUrl })
  // An account deleted by any process: its streams end here, and its next request makes a new
  // user row (the auth plugin's cache would otherwise skip it).
  await app.register(eventHub, {
    url: config.database.directUrl,
    onAccountDeleted: (userId) => { app.forgetUser(userId) },
    ...(deps.streamRegistrationTtlSeconds === undefined ? {} : { registrationTtlSeconds: deps.streamRegistrationTtlSeconds })
  })
  await app.register(streamWakeups)
  app.decorate('eventStreamSettings', { maxStreamsPerUser: config.events.maxStreamsPerUser, heartbeatMs: config.events.heartbeatMs })
  if (config.server.responseValidation) await app.register(responseValidation)
  await app.register(contractRoutes, { handlers, infrastructurePrefixes: DOCS_ROUTES, bodyLimits: { importAccount: config.account.importMaxBytes } })
  await app.register(docs)
  await app.register(retention, { retentionDays: config.trash.retentionDays, syncRetentionDays: config.sync.retentionDays, intervalMs: config.trash.purgeIntervalMs })
  // A database handed in (tests) is reached directly at its own URL.
  await app.register(jobQueue, { url: deps.database?.url ?? config.database.directUrl, role: config.database.rowLevelSecurity ? JOBS_ROLE : undefined, concurrency: config.jobs.concurrency, lapseMs: config.jobs.lapseMs })
  await app.register(webhookJobs, {
    retryDelaysS: config.webhooks.retryDelaysS,
    allowPrivateTargets: config.webhooks.allowPrivateTargets,
    ...(deps.webhookResolve === undefined ? {} : { resolve: deps.webhookResolve })
  })
  await app.register(reminderJobs)
  return app
}
