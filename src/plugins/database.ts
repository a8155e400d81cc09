/**
 * Decorates the instance with `db` (Kysely<Database>). When the app built the pool itself it
 * also destroys it on close; a pool handed in by the caller (tests) is the caller's to close.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { createDatabase } from '../database/create.js'
import type { Database } from '../database/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>
  }
}

export interface DatabasePluginOptions {
  url: string | undefined
  poolMax: number
  statementTimeoutMs?: number
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
      onPoolError: (error) => { app.log.warn({ err: error }, 'idle database connection failed') }
    })
    const owned = db
    app.addHook('onClose', async () => { await owned.destroy() })
  }
  app.decorate('db', db)
}

export default fp(database, { name: 'database' })
