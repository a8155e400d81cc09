/**
 * Behind a transaction-mode pooler, as an operator would run it: PgBouncer (Debian's 1.18 or
 * later) started here with `pool_mode = transaction` and no ignore_startup_parameters, the
 * README's "Production roles" block run as it is (its own password), and the service logging
 * in as that role through the pooler (DATABASE_PREPARED_STATEMENTS=false) with
 * DATABASE_DIRECT_URL straight to PostgreSQL. The whole contract journey (npm run
 * contract-test: every operation) passes; an event reaches an open stream (LISTEN on the
 * direct connection); a webhook is delivered (the job queue, as todo_jobs); the requests went
 * through the pooler (its SHOW STATS). The same login straight to PostgreSQL, with prepared
 * statements, passes the journey too.
 *
 * Skipped, saying so, where PgBouncer is not installed; CI installs it (.ci/run), and there
 * a missing PgBouncer fails instead.
 */
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { adminUrl, isolatedDatabase } from '../helpers/database.js'
import { openStream } from '../helpers/event-stream.js'
import { freePort, ROOT, runContractTest, startServer } from '../helpers/server.js'
import { bearer, newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'
import { startReceiver } from '../helpers/webhooks.js'

const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']
const LOGIN = 'todo_service'
const PASSWORD = 'pooler-test-password'

async function findPgBouncer (): Promise<string | undefined> {
  for (const candidate of PGBOUNCER) {
    try {
      await readFile(candidate)
      return candidate
    } catch {}
  }
  return undefined
}

/** The README's production-roles block, as written there (the password replaced). */
async function productionRolesSql (): Promise<string> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8')
  const block = /<!-- production-roles:[^>]*-->\s*```sql\n([\s\S]*?)```/.exec(readme)?.[1]
  if (block === undefined) throw new Error('README.md has no production-roles SQL block')
  return block.replace(/PASSWORD '[^']*'/, `PASSWORD '${PASSWORD}'`)
}

const withLogin = (url: string, port: number): string => {
  const parsed = new URL(url)
  parsed.username = LOGIN
  parsed.password = PASSWORD
  parsed.port = String(port)
  return parsed.toString()
}

t.test('the service through PgBouncer in transaction mode, with the production roles', async (t) => {
  const pgbouncer = await findPgBouncer()
  if (pgbouncer === undefined) {
    if (process.env.CI === 'true') t.fail('PgBouncer is not installed (.ci/run installs Debian\'s pgbouncer)')
    else t.pass('skipped: PgBouncer is not installed (apt-get install pgbouncer)')
    return
  }
  const { url, db } = await isolatedDatabase(t)
  const postgres = new URL(url)
  const databaseName = postgres.pathname.slice(1)

  // The roles, as the README says (cluster-wide: a role left by an interrupted run goes first).
  const admin = new pg.Client({ connectionString: adminUrl() })
  await admin.connect()
  const dropLogin = async (): Promise<void> => {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [LOGIN])
    await admin.query(`DROP ROLE IF EXISTS ${LOGIN}`)
  }
  await dropLogin()
  t.teardown(async () => {
    await dropLogin().catch(() => {})
    await admin.end()
  })
  await sql.raw(await productionRolesSql()).execute(db)

  // PgBouncer: transaction pooling, nothing in ignore_startup_parameters, its own port.
  const folder = await mkdtemp(path.join(tmpdir(), 'todo-pgbouncer-'))
  t.teardown(async () => { await rm(folder, { recursive: true, force: true }) })
  const port = await freePort()
  await writeFile(path.join(folder, 'userlist.txt'), `"${LOGIN}" "${PASSWORD}"\n`)
  await writeFile(path.join(folder, 'pgbouncer.ini'), [
    '[databases]',
    `* = host=${postgres.hostname} port=${postgres.port}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${path.join(folder, 'userlist.txt')}`,
    'pool_mode = transaction',
    'default_pool_size = 8',
    'max_client_conn = 200',
    `stats_users = ${LOGIN}`,
    ''
  ].join('\n'))
  // PgBouncer refuses to run as root: there it switches to an unprivileged user, who must
  // read its files.
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    await chmod(folder, 0o755)
    for (const file of ['userlist.txt', 'pgbouncer.ini']) await chmod(path.join(folder, file), 0o644)
  }
  const bouncer = spawn(pgbouncer, [...(asRoot ? ['-u', 'nobody'] : []), path.join(folder, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let bouncerLog = ''
  bouncer.stdout.on('data', (chunk: Buffer) => { bouncerLog += chunk.toString() })
  bouncer.stderr.on('data', (chunk: Buffer) => { bouncerLog += chunk.toString() })
  t.teardown(() => { if (bouncer.exitCode === null) bouncer.kill('SIGKILL') })
  const pooledUrl = withLogin(url, port)
  const directUrl = withLogin(url, Number(postgres.port))
  // Ready once it takes a login.
  const until = Date.now() + 10_000
  for (;;) {
    const probe = new pg.Client({ connectionString: pooledUrl })
    try {
      await probe.connect()
      await probe.end()
      break
    } catch (error) {
      if (Date.now() > until || bouncer.exitCode !== null) throw new Error(`PgBouncer did not start: ${String(error)}\n${bouncerLog}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  const pooled = {
    DATABASE_URL: pooledUrl,
    DATABASE_DIRECT_URL: directUrl,
    DATABASE_PREPARED_STATEMENTS: 'false',
    MIGRATE_ON_START: 'false',
    JWT_SECRET: TEST_SECRET,
    NODE_ENV: 'test',
    LOG_FORMAT: 'json'
  }
  // Its job queue off: a webhook job it took would find the test's receiver private and
  // refused (this process does not allow private targets), and the delivery would wait for
  // its retry. The queue through the pooler setup runs in the process below.
  const server = await startServer(t, { ...pooled, JOB_CONCURRENCY: '0' })

  t.test('the whole contract journey passes', async (t) => {
    const { code, stdout } = await runContractTest(server.baseUrl, tokenFor(newUserId('pooled'), { expiresIn: 3600 }))
    t.equal(code, 0, stdout)
    t.match(stdout, /^PASS every operation of openapi\.yaml exercised \(\d+\)$/m)
    t.match(stdout, /^\d+ passed, 0 failed$/m)
  })

  t.test('an event reaches an open stream, and a webhook its receiver', async (t) => {
    // A receiver on this machine: private targets allowed (the journey checks their refusal,
    // so this is a process of its own).
    const receiver = await startReceiver(t)
    const server = await startServer(t, { ...pooled, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' })
    const headers = { ...bearer(tokenFor(newUserId('pooled-events'))), 'content-type': 'application/json' }
    const hook = await fetch(`${server.baseUrl}/api/me/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook`, events: ['task.created'] }) })
    t.equal(hook.status, 201)
    const stream = await openStream(server.baseUrl, headers)
    t.teardown(() => { stream.close() })
    t.equal(stream.status, 200)
    // The stream registers before it listens for changes: a little time for that.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const created = await fetch(`${server.baseUrl}/api/me/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: 'through the pooler' }) })
    t.equal(created.status, 201)
    await stream.until((events) => events.some((event) => event.type === 'task.created'), 5_000)
    t.pass('the stream got task.created')
    const [delivery] = await receiver.waitFor(1, 10_000)
    t.match(JSON.parse(delivery?.body ?? '{}'), { type: 'task.created' }, 'the webhook got task.created')
    t.notMatch(server.output(), /"level":(50|60)/, 'no error or fatal line in its log')
  })

  t.test('the requests went through the pooler, and the service logged no error', async (t) => {
    const stats = new pg.Client({ connectionString: withLogin(url, port).replace(`/${databaseName}`, '/pgbouncer') })
    await stats.connect()
    const { rows } = await stats.query<{ database: string, total_xact_count: string }>('SHOW STATS')
    await stats.end()
    const counted = Number(rows.find((row) => row.database === databaseName)?.total_xact_count ?? 0)
    t.ok(counted > 40, `PgBouncer counted ${counted} transactions on the database`)
    t.notMatch(server.output(), /"level":(50|60)/, 'no error or fatal line in the service\'s log')
  })

  t.test('the same login straight to PostgreSQL, with prepared statements, passes the journey too', async (t) => {
    const direct = await startServer(t, {
      DATABASE_URL: directUrl,
      MIGRATE_ON_START: 'false',
      JWT_SECRET: TEST_SECRET,
      NODE_ENV: 'test',
      JOB_CONCURRENCY: '0'
    })
    const { code, stdout } = await runContractTest(direct.baseUrl, tokenFor(newUserId('direct'), { expiresIn: 3600 }))
    t.equal(code, 0, stdout)
    t.match(stdout, /^\d+ passed, 0 failed$/m)
  })
})
