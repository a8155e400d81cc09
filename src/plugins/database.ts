/**
 * Decorates the instance with `db` (Kysely<Database>) and with `asUser` /
 * `asUserAtomically` (src/database/user-scope.ts), through which handlers reach user data.
 * With row-level security on, the pool the app opens works as role todo_app. When the app
 * built the pool itself it also destroys it on close; a pool handed in by the caller (tests)
 * is the caller's to close, and works as whatever role the caller chose.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { createDatabase } from '../database/create.js'
import { SERVICE_ROLE } from '../database/service-role.js'
import type { Database } from '../database/types.js'
import { createUserScope, type UserScope } from '../database/user-scope.js'

declare module 'fastify' {
  interface FastifyInstance extends UserScope {
    db: Kysely<Database>
  }
}

export interface DatabasePluginOptions {
  url: string | undefined
  poolMax: number
  statementTimeoutMs?: number
  rowLevelSecurity: boolean
  db?: Kysely<Database> | undefined
}

const database: FastifyPluginAsync<DatabasePluginOptions> = async (app, options) => {
  let db = options.db
  if (db === undefined) {
    if (options.url === undefined) throw new Error('no database: pass a Kysely instance or a URL')
    db = createDatabase({
      url: options.url,
      poolMax: options.poolMax,
      statementTimeoutMs: options.statementTimeoutMs,
      ...(options.rowLevelSecurity ? { role: SERVICE_ROLE } : {}),
      onPoolError: (error) => { app.log.warn({ err: error }, 'idle database connection failed') }
    })
    const owned = db
    app.addHook('onClose', async () => { await owned.destroy() })
  }
  const scope = createUserScope(db, { rowLevelSecurity: options.rowLevelSecurity })
  app.decorate('db', db)
  app.decorate('asUser', scope.asUser)
  app.decorate('asUserAtomically', scope.asUserAtomically)
}

export default fp(database, { name: 'database' })
