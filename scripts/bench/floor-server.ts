/**
 * The floor for `npm run bench`: the thinnest server for the same two reads — a bare Fastify
 * route running the same SQL with raw pg and returning the rows. No auth, no validation, no
 * query builder, no response schema. The service's req/s is reported as a ratio of this.
 * With row-level security on (RLS_ENABLED, as the service), "the same SQL" includes what the
 * policies need: it works as role todo_app and names the caller with each statement, sent
 * the way the service sends it (src/database/user-statement.ts, one pipeline per statement),
 * so the ratio still measures the service's layers, not the price of row-level security.
 */
import Fastify from 'fastify'
import pg from 'pg'
import { SERVICE_ROLE } from '../../src/database/service-role.js'
import { sendAsUser } from '../../src/database/user-statement.js'

// The columns and conditions of the service's own listing and read (src/repositories/tasks.ts).
const COLUMNS = 'user_id, id, title, description, completed, completed_at, priority, due_at, due_date, time_zone, recurrence_rule, reminders, category_id, tags, created_at, updated_at, version, deleted_at'
const LIST = `SELECT ${COLUMNS}, (created_at)::text AS sort_key FROM tasks WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 51`
const GET = `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL`

const rowLevelSecurity = process.env.RLS_ENABLED !== 'false'
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  ...(rowLevelSecurity ? { options: `-c role=${SERVICE_ROLE}` } : {})
})
// Unnamed statements, parsed each time: raw pg's default (named ones are the service's own optimisation).
async function query (userId: string, text: string, values: unknown[]): Promise<{ rows: unknown[] }> {
  if (!rowLevelSecurity) return await pool.query(text, values)
  const client = await pool.connect()
  try {
    return await sendAsUser(client, { userId, name: '', text, values, types: pg.types })
  } finally {
    client.release()
  }
}

const app = Fastify({ logger: false })

app.get('/floor/tasks', async (request) => {
  const user = request.headers['x-user'] as string
  const { rows } = await query(user, LIST, [user])
  return { items: rows.slice(0, 50), next_cursor: rows.length > 50 ? 'x' : null }
})

app.get<{ Params: { id: string } }>('/floor/tasks/:id', async (request, reply) => {
  const user = request.headers['x-user'] as string
  const { rows } = await query(user, GET, [user, request.params.id])
  if (rows.length === 0) return await reply.code(404).send()
  return rows[0]
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.stdout.write(`floor listening at ${address}\n`)
const stop = (): void => { app.close().then(async () => { await pool.end(); process.exit(0) }, () => { process.exit(1) }) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
