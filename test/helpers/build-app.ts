/**
 * buildTestApp(t, overrides?): the real app, with a test configuration and the shared test
 * database, closed when the test ends. Route tests call app.inject, never a real port.
 */
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { type AppDependencies, buildApp } from '../../src/app.js'
import { loadConfig, type ResolvedConfig, resolvedAlready } from '../../src/config.js'
import { sharedOwnerDatabase, sharedServiceDatabase } from './database.js'
import { TEST_SECRET } from './tokens.js'

/** A Config as loadConfig would build it from these variables (process.env is never touched). */
export function testConfig (env: Record<string, string> = {}): Readonly<ResolvedConfig> {
  return resolvedAlready(loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://unused-in-tests/db',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    // Tests generate RSA keys and parse big bodies in the app's own process: on a loaded
    // machine that can lag the event loop past a second, and the overload guard would answer
    // 503. Off by default here; the overload test turns it on.
    EVENT_LOOP_DELAY_LIMIT_MS: '0',
    // Test apps share one database: one that delivered webhooks would make the attempts of
    // another file's webhooks, with its own settings. Delivery tests turn it on, on a
    // database of their own.
    JOB_CONCURRENCY: '0',
    // Every injected request comes from one address (127.0.0.1), and suites send refused
    // tokens by the hundred: the limit of failed authentications is its own test's to set.
    RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '0',
    ...env
  }))
}

export interface TestAppOptions extends AppDependencies {
  env?: Record<string, string>
  /** Let the app open its own pool on env.DATABASE_URL (pool settings under test). */
  ownPool?: boolean
}

export async function buildTestApp (t: Test, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const { env, database, ownPool = false, ...deps } = options
  const config = testConfig(env)
  // The app works on the shared database as it would in production: as todo_app under the
  // policies, unless the test turns row-level security off.
  const shared = (): AppDependencies['database'] => config.database.rowLevelSecurity ? sharedServiceDatabase(t) : sharedOwnerDatabase(t)
  const app = await buildApp(config, { logger: false, ...deps, ...(ownPool ? {} : { database: database ?? shared() }) })
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}
