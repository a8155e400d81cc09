import { spawn } from 'node:child_process'
import autocannon from 'autocannon'
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import { startEmbeddedPostgres } from './src/database/embedded.js'
const e = await startEmbeddedPostgres({ dataDir: '/work/main/.data/bench-pg', port: 54359 })
const url = e.urlFor('todo_bench_small')
const c = new pg.Client(url); await c.connect()
const { rows } = await c.query("select user_id, id from tasks where user_id like 'bench-%' limit 2000"); await c.end()
const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const sign = createSigner({ key: SECRET, expiresIn: 3_600_000 })
const tokens = new Map<string, string>()
const scenario = process.argv[2] ?? 'get'
const child = spawn(process.execPath, (process.argv[3] === 'floor' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '--import', 'tsx', 'scripts/bench/floor-server.ts'] : ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', 'dist/src/server.js']), { env: { PATH: process.env.PATH, PORT: '3998', DATABASE_URL: url, JWT_SECRET: SECRET, NODE_ENV: 'production', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', MIGRATE_ON_START: 'false' }, stdio: 'inherit' })
await new Promise((r) => setTimeout(r, 2500))
const next = () => { const r = rows[Math.floor(Math.random() * rows.length)]; let t = tokens.get(r.user_id); if (!t) { t = sign({ sub: r.user_id }); tokens.set(r.user_id, t) } return { method: 'GET', path: process.argv[3] === 'floor' ? (scenario === 'get' ? `/floor/tasks/${r.id}` : '/floor/tasks') : (scenario === 'get' ? `/api/me/tasks/${r.id}` : '/api/me/tasks'), headers: { authorization: `Bearer ${t}`, 'x-user': r.user_id } } }
const res = await autocannon({ url: 'http://127.0.0.1:3998', connections: 16, duration: 8, requests: [{ setupRequest: (req: any) => ({ ...req, ...next() }) }] })
console.log(scenario, res.requests.average, res.non2xx)
await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGINT') })
await e.stop()
