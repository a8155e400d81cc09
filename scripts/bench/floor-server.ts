/**
 * The floor for `npm run bench`: the thinnest server for the same two reads — a bare Fastify
 * route running the same SQL with raw pg and returning the rows. No auth, no validation, no
 * query builder, no response schema. The service's req/s is reported as a ratio of this.
 */
import Fastify from 'fastify'
import pg from 'pg'

const COLUMNS = 'user_id, id, title, description, completed, completed_at, priority, due_at, category_id, tags, created_at, updated_at, version'
const LIST = `SELECT ${COLUMNS}, (created_at)::text AS sort_key FROM tasks WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 51`
const GET = `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2`

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) })
const app = Fastify({ logger: false })

app.get('/floor/tasks', async (request) => {
  const { rows } = await pool.query(LIST, [request.headers['x-user']])
  return { items: rows.slice(0, 50), next_cursor: rows.length > 50 ? 'x' : null }
})

app.get<{ Params: { id: string } }>('/floor/tasks/:id', async (request, reply) => {
  const { rows } = await pool.query(GET, [request.headers['x-user'], request.params.id])
  if (rows.length === 0) return await reply.code(404).send()
  return rows[0]
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.stdout.write(`floor listening at ${address}\n`)
const stop = (): void => { app.close().then(async () => { await pool.end(); process.exit(0) }, () => { process.exit(1) }) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
