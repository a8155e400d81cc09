/**
 * buildTestApp(t, overrides?): the real app, with a test configuration and the shared test
 * database, closed when the test ends. Route tests call app.inject, never a real port.
 */
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Test } from 'tap'
import { type AppDependencies, buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import type { Database } from '../../src/database/types.js'
import { sharedDb, sharedServiceDb } from './database.js'
import { TEST_SECRET } from './tokens.js'

/** A Config as loadConfig would build it from these variables (process.env is never touched). */
export function testConfig (env: Record<string, string> = {}): Readonly<Config> {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://unused-in-tests/db',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    ...env
  })
}

export interface TestAppOptions extends Omit<AppDependencies, 'db'> {
  env?: Record<string, string>
  db?: Kysely<Database>
  /** Let the app open its own pool on env.DATABASE_URL (pool settings under test). */
  ownPool?: boolean
}

export async function buildTestApp (t: Test, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const { env, db, ownPool = false, ...deps } = options
  const config = testConfig(env)
  // The app works on the shared database as it would in production: as todo_app under the
  // policies, unless the test turns row-level security off.
  const defaultDb = (): Kysely<Database> => config.database.rowLevelSecurity ? sharedServiceDb(t) : sharedDb(t)
  const app = await buildApp(config, { logger: false, ...deps, ...(ownPool ? {} : { db: db ?? defaultDb() }) })
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}
