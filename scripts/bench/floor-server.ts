/**
 * The floor for `npm run bench`: the fastest honest server for the same two reads, to which
 * the service's req/s and p99 are compared. Bare Fastify, no hooks, no validation, no query
 * builder, no response schema, no row-level security (the tables' owner, the caller's id as a
 * plain condition), raw pg with named prepared statements (parsed and planned once per
 * connection); but the same work a client depends on: the bearer token verified (HS256,
 * fast-jwt, as the service), the same SQL, the next page's cursor signed with the service's
 * own key, and the same JSON bytes out (the service's representation, the same ETag). The
 * bench checks that the bytes match before it measures.
 * What the service does beyond this (security headers, request ids, rate limiting, request
 * validation, response serialization from the contract, the row-level security setting,
 * Kysely's compile, the user's first-seen write, logging) is the difference it measures
 * (docs/benchmarks.md says where each part goes).
 */
import Fastify from 'fastify'
import { createVerifier } from 'fast-jwt'
import pg from 'pg'
import { encodeCursor, queryFingerprint } from '../../src/domain/cursor.js'
import { etagFor } from '../../src/domain/etag.js'
import { toTask } from '../../src/domain/tasks.js'
import type { TaskRow } from '../../src/database/types.js'
import { typeParsers } from '../../src/database/type-parsers.js'
import { COLUMNS } from '../../src/repositories/tasks.js'

// The service's listing (first page, its defaults) and read (src/repositories/tasks.ts).
const SELECTED = COLUMNS.map((column) => `"${column}"`).join(', ')
const LIST = `SELECT ${SELECTED}, (created_at)::text AS sort_key FROM tasks WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 51`
const GET = `SELECT ${SELECTED} FROM tasks WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL`
/** The listing's query as the service fingerprints it for a cursor (its defaults, no filters). */
const LISTING = { status: 'all', sort: 'created_at', order: 'desc' }

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  options: '-c TimeZone=UTC',
  types: typeParsers
})
const secret = process.env.JWT_SECRET ?? ''
const verify = createVerifier({ key: secret, algorithms: ['HS256'], cache: true })
const { rows: keys } = await pool.query<{ secret: string }>("SELECT secret FROM service_keys WHERE name = 'cursor'")
const cursorKey = keys[0]?.secret
if (cursorKey === undefined) throw new Error('service key "cursor" is missing: run the migrations')

function caller (authorization: string | undefined): string | undefined {
  if (authorization?.startsWith('Bearer ') !== true) return undefined
  try {
    return (verify(authorization.slice(7)) as { sub?: string }).sub
  } catch {
    return undefined
  }
}

const app = Fastify({ logger: false })

app.get('/floor/health', async () => ({ status: 'ok' }))

app.get('/floor/tasks', async (request, reply) => {
  const user = caller(request.headers.authorization)
  if (user === undefined) return await reply.code(401).send()
  const { rows } = await pool.query<TaskRow & { sort_key: string }>({ name: 'floor-list', text: LIST, values: [user] })
  const last = rows.length > 50 ? rows[49] : undefined
  return await reply.type('application/json; charset=utf-8').send(JSON.stringify({
    items: rows.slice(0, 50).map(toTask),
    next_cursor: last === undefined ? null : encodeCursor({ key: last.sort_key, id: last.id }, queryFingerprint(user, LISTING), cursorKey)
  }))
})

app.get<{ Params: { id: string } }>('/floor/tasks/:id', async (request, reply) => {
  const user = caller(request.headers.authorization)
  if (user === undefined) return await reply.code(401).send()
  const { rows } = await pool.query<TaskRow>({ name: 'floor-get', text: GET, values: [user, request.params.id] })
  const row = rows[0]
  if (row === undefined) return await reply.code(404).send()
  return await reply.type('application/json; charset=utf-8').header('etag', etagFor(row.version)).send(JSON.stringify(toTask(row)))
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.stdout.write(`floor listening at ${address}\n`)
const stop = (): void => { app.close().then(async () => { await pool.end(); process.exit(0) }, () => { process.exit(1) }) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
