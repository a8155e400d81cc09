/**
 * npm run bench [-- --size small|large] [--duration 10] [--smoke] [--rls on|off] [--only list,events,…] [--peer]
 *
 * Load on the real service (compiled, `node dist/src/server.js`) over a fresh database — the
 * embedded PostgreSQL in .data/bench-pg, or BENCH_DATABASE_URL — seeded straight through SQL,
 * driven by autocannon on 127.0.0.1 with real tokens of random users. Prints a table (req/s,
 * p50, p99, non-2xx, RSS) and one `BENCH_JSON {…}` line with every figure. Also runs the floor
 * (scripts/bench/floor-server.ts) for `list` and `get`, reporting the service's req/s as a
 * ratio of it, and the mixed scenario with 1 and 2 workers. `--size large` runs the small data
 * set first, then 1,000,000 tasks, and compares. `--smoke` (CI): 2 s a scenario, no targets.
 * `--rls off` runs the service, and the floor, with RLS_ENABLED=false (default: on, as deployed).
 * `--cpu-prof DIR` writes V8 CPU profiles of the service and the floor into DIR.
 * `--peer` also runs the peer, the same API in the stack of the original design (FastAPI +
 * SQLModel + psycopg2 on Debian's python3 packages; its folder: BENCH_PEER_DIR, by default
 * ../shared/peers/fastapi_seed), started with its start.sh and 2 workers on its own database
 * of the same PostgreSQL server, seeded with the same data (scripts/bench/peer-seed.ts). For
 * list, get, create, update, search and mixed, the same requests (its paths are the service's)
 * go to the peer in alternation with the service, three rounds each (list and get: with the
 * floor too), and the service's req/s is checked against the peer's (target ≥ 8).
 * `--streams-apart`: the events scenario opens its streams on a second service process while
 * the mixed load goes to the first: event streams served by processes of their own
 * (docs/scaling.md, "Event streams on processes of their own"); its RSS figure is that process's.
 * `--only` runs the named scenarios alone (`events` is the 1,000 streams with mixed load and
 * delivery latency, on a database of its own seeded like the first, whatever ran before it;
 * `mixed-2-workers` the cluster; `reminders` 10,000 reminders due within a minute, fired by the
 * cluster; `metrics` get and mixed with METRICS_PORT on and off); a check whose figures were
 * not taken is skipped.
 * Bounded: every scenario stops after its duration; everything it starts is stopped.
 * Everything runs on the Node.js that runs the bench, named in its header and in BENCH_JSON;
 * `scripts/with-node.sh 26 npm run bench` measures Node 26.
 */
import '../src/node-version.js'
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { setMaxListeners } from 'node:events'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { get as httpGet, type IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import path from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { createSigner } from 'fast-jwt'
import { sql } from 'kysely'
import { openDatabaseServer } from '../src/bootstrap.js'
import { recreateDatabase } from '../src/database/admin.js'
import { createDatabase } from '../src/database/create.js'
import { migrateToLatest } from '../src/database/migrate.js'
import { seedPeer } from './bench/peer-seed.js'
import { ACTIVE_USERS, type BenchSize, benchUser, SEARCH_WORDS, seed } from './bench/seed.js'

const { values } = parseArgs({ options: { size: { type: 'string', default: 'small' }, duration: { type: 'string' }, smoke: { type: 'boolean', default: false }, rls: { type: 'string', default: 'on' }, only: { type: 'string' }, 'cpu-prof': { type: 'string' }, peer: { type: 'boolean', default: false }, 'streams-apart': { type: 'boolean', default: false } } })
const smoke = values.smoke === true
const DURATION = Number(values.duration ?? (smoke ? 2 : 10))
const CONNECTIONS = 16
if (values.rls !== 'on' && values.rls !== 'off') throw new Error('--rls is on or off')
const RLS_ENABLED = values.rls === 'on' ? 'true' : 'false'
const only = values.only?.split(',').map((name) => name.trim())
const wanted = (name: string): boolean => only === undefined || only.includes(name)
const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const ROOT = path.resolve(import.meta.dirname, '..')
const sign = createSigner({ key: SECRET, expiresIn: 3_600_000 })

/**
 * cpuUs: the service's CPU time (user and system) per request answered, in µs; machineUs: the
 * whole machine's (every process: the service, PostgreSQL, this load generator); loaderUs:
 * this process's (the load generator, and the stream readers while they are open).
 */
interface Figures { rps: number, p50: number, p99: number, non2xx: number, rssMb?: number, cpuUs?: number, machineUs?: number, loaderUs?: number }
type Results = Record<string, Figures>

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T

async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => { resolve(port) })
    })
  })
}

async function waitFor (url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited early:\n${output()}`)
    try { if ((await fetch(url)).ok) return } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not answer:\n${output()}`)
}

/** Clock ticks a second in /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100

/** The live (not zombie) processes of a process group, each with its CPU seconds so far. */
function groupMembers (pgid: number): Array<{ pid: number, cpuSeconds: number }> {
  const members: Array<{ pid: number, cpuSeconds: number }> = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8') } catch { continue }
    // After the command's closing parenthesis (the command may hold spaces or parentheses):
    // state, ppid, pgrp, …, utime and stime 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue
    members.push({ pid: Number(entry), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS })
  }
  return members
}

interface StartOptions {
  /** The program run (default: this Node.js, the command being its arguments). */
  program?: string
  cwd?: string
  /**
   * A program that starts processes of its own (uvicorn's workers): started as the leader of
   * its own process group, stopped as a group, and killed with the bench should it die first.
   */
  group?: boolean
}

async function start (command: string[] | ((port: number) => string[]), env: Record<string, string>, readyPath: string, { program = process.execPath, cwd = ROOT, group = false }: StartOptions = {}): Promise<{ child: ChildProcess, base: string, stop: () => Promise<void> }> {
  const port = await freePort()
  const args = typeof command === 'function' ? command(port) : command
  const child = spawn(program, args, { cwd, detached: group, env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { output += c.toString() })
  child.on('error', (error) => { output += String(error) })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const stopOne = async (): Promise<void> => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    await exited
  }
  const stop = group ? groupStopper(child, exited) : stopOne
  const base = `http://127.0.0.1:${port}`
  try {
    await waitFor(base + readyPath, child, () => output)
  } catch (error) {
    if (group) await stop()
    throw error
  }
  return { child, base, stop }
}

/**
 * Stops a process group: SIGTERM to every member (uvicorn's supervisor and its workers stop
 * on it), SIGKILL to whatever is left after 10 s; fails if anything still lives. Until then,
 * the group dies with the bench: being a group of its own, Ctrl-C at the terminal would not
 * reach it.
 */
function groupStopper (child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  const pgid = child.pid
  const signal = (name: NodeJS.Signals): void => { try { if (pgid !== undefined) process.kill(-pgid, name) } catch {} }
  const killNow = (): void => { signal('SIGKILL') }
  const onSignal = (name: NodeJS.Signals): void => { killNow(); process.kill(process.pid, name) }
  process.on('exit', killNow)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return async () => {
    process.off('exit', killNow)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (pgid === undefined) return
    signal('SIGTERM')
    const deadline = Date.now() + 10_000
    while (groupMembers(pgid).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    if (groupMembers(pgid).length > 0) {
      signal('SIGKILL')
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    if (child.exitCode === null && child.signalCode === null) await exited
    const left = groupMembers(pgid)
    if (left.length > 0) throw new Error(`processes ${left.map((member) => member.pid).join(', ')} of group ${pgid} did not stop`)
  }
}

function rssMb (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? 0 : Number(match[1]) / 1024
}

/** The machine's busy CPU time so far, all cores, in µs: /proc/stat's first line less idle and iowait, in ticks of 10 ms. */
function machineBusyUs (): number {
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks
  return (user + nice + system + irq + softirq + steal) * 10_000
}

/** A process's CPU time so far (user and system), in µs: fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms. */
function cpuTimeUs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

type Request = { method: 'GET' | 'POST' | 'PATCH', path: string, headers: Record<string, string>, body?: string }

const WARMUP = smoke ? 1 : 3

const cpuTotalUs = ({ user, system }: NodeJS.CpuUsage): number => user + system

/** Samples a process's RSS every 250 ms; `stop` ends it and gives the peak in MB. */
function rssSampler (pid: number): { stop: () => number } {
  let peak = 0
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(pid)) }, 250)
  return { stop: () => { clearInterval(timer); return Math.round(peak) } }
}

async function load (base: string, next: () => Request, seconds: number, pid?: number): Promise<Figures> {
  // Unmeasured first: JIT, connection pools and caches warm up before the clock starts.
  await autocannon({ url: base, connections: CONNECTIONS, duration: WARMUP, requests: [{ setupRequest: (request) => ({ ...request, ...next() }) }] })
  const sampler = pid === undefined ? undefined : rssSampler(pid)
  const cpuBefore = pid === undefined ? 0 : cpuTimeUs(pid)
  const machineBefore = machineBusyUs()
  const loaderBefore = process.cpuUsage()
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ setupRequest: (request) => ({ ...request, ...next() }) }]
  })
  const peak = sampler?.stop() ?? 0
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
    ...(pid === undefined ? {} : { rssMb: peak, cpuUs: Math.round((cpuTimeUs(pid) - cpuBefore) / Math.max(1, result.requests.total)) }),
    machineUs: Math.round((machineBusyUs() - machineBefore) / Math.max(1, result.requests.total)),
    loaderUs: Math.round(cpuTotalUs(process.cpuUsage(loaderBefore)) / Math.max(1, result.requests.total))
  }
}

interface Fixture { tokens: Map<string, string>, taskIds: Map<string, string[]>, deepCursors: Map<string, string>, syncTokens: Map<string, string> }

/**
 * sync: for 20 users, a full sync to its end, then 10 changes: each request of the scenario
 * is an incremental sync answering those 10 changes. Made just before the scenario runs, so
 * that the writes of earlier scenarios are behind the token.
 */
async function prepareSync (base: string, f: Fixture): Promise<void> {
  for (const user of [...f.tokens.keys()].slice(0, 20)) {
    const headers = { authorization: `Bearer ${f.tokens.get(user) as string}` }
    let token = ''
    for (;;) {
      const response = await fetch(`${base}/api/me/sync?limit=1000${token === '' ? '' : `&since=${encodeURIComponent(token)}`}`, { headers })
      const page = (await response.json()) as { next_token: string, has_more: boolean }
      token = page.next_token
      if (!page.has_more) break
    }
    for (const id of (f.taskIds.get(user) ?? []).slice(0, 10)) {
      await fetch(`${base}/api/me/tasks/${id}`, { method: 'PATCH', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ title: `Changed ${Math.random()}` }) })
    }
    f.syncTokens.set(user, token)
  }
}

/** A database seeded with the size's data: `todo_bench_<size>`, or `todo_bench_<size>_<purpose>`. */
async function prepareDatabase (adminUrl: string, size: BenchSize, purpose?: string): Promise<string> {
  const url = await recreateDatabase(adminUrl, `todo_bench_${size}${purpose === undefined ? '' : `_${purpose}`}`)
  const db = createDatabase({ url, poolMax: 2 })
  try {
    await migrateToLatest(db, url)
    const started = Date.now()
    const count = await seed(db, size)
    process.stdout.write(`# seeded ${count.toLocaleString('en')} tasks (${size}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  } finally {
    await db.destroy()
  }
  return url
}

/** 20 task ids of each user, read from a database whose tasks table has id and user_id (the service's, the peer's). */
async function taskIdsOf (url: string, users: string[]): Promise<Map<string, string[]>> {
  const db = createDatabase({ url, poolMax: 2 })
  const taskIds = new Map<string, string[]>()
  try {
    const { rows } = await sql<{ user_id: string, ids: string[] }>`
      SELECT user_id, (array_agg(id))[1:20] AS ids FROM tasks WHERE user_id = ANY(${users}) GROUP BY user_id
    `.execute(db)
    for (const row of rows) taskIds.set(row.user_id, row.ids)
  } finally {
    await db.destroy()
  }
  return taskIds
}

async function fixture (url: string, base: string): Promise<Fixture> {
  const users = Array.from({ length: ACTIVE_USERS }, (_, i) => benchUser(i + 1))
  const tokens = new Map(users.map((user) => [user, sign({ sub: user })]))
  const taskIds = await taskIdsOf(url, users)
  // list-deep: for 20 users, follow cursors one task a page, 100 pages in, as a client would.
  const deepCursors = new Map<string, string>()
  for (const user of users.slice(0, 20)) {
    let cursor = ''
    for (let page = 0; page < 100; page++) {
      const response = await fetch(`${base}/api/me/tasks?limit=1${cursor === '' ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { headers: { authorization: `Bearer ${tokens.get(user) as string}` } })
      cursor = ((await response.json()) as { next_cursor: string }).next_cursor
    }
    deepCursors.set(user, cursor)
  }
  return { tokens, taskIds, deepCursors, syncTokens: new Map() }
}

function scenarios (f: Fixture): Record<string, () => Request> {
  const users = [...f.tokens.keys()]
  const deepUsers = [...f.deepCursors.keys()]
  const auth = (user: string): Record<string, string> => ({ authorization: `Bearer ${f.tokens.get(user) as string}` })
  const json = { 'content-type': 'application/json' }
  const anyTask = (user: string): string => pick(f.taskIds.get(user) ?? [])
  const s: Record<string, () => Request> = {
    list: () => ({ method: 'GET', path: '/api/me/tasks', headers: auth(pick(users)) }),
    'list-deep': () => { const user = pick(deepUsers); return { method: 'GET', path: `/api/me/tasks?limit=50&cursor=${encodeURIComponent(f.deepCursors.get(user) as string)}`, headers: auth(user) } },
    get: () => { const user = pick(users); return { method: 'GET', path: `/api/me/tasks/${anyTask(user)}`, headers: auth(user) } },
    create: () => ({ method: 'POST', path: '/api/me/tasks', headers: { ...auth(pick(users)), ...json }, body: JSON.stringify({ title: `Bench ${pick(SEARCH_WORDS)}`, tags: ['bench'], priority: 'high' }) }),
    update: () => { const user = pick(users); return { method: 'PATCH', path: `/api/me/tasks/${anyTask(user)}`, headers: { ...auth(user), ...json }, body: JSON.stringify({ title: `Renamed ${Math.random()}` }) } },
    complete: () => { const user = pick(users); return { method: 'PATCH', path: `/api/me/tasks/${anyTask(user)}/complete`, headers: auth(user) } },
    search: () => ({ method: 'GET', path: `/api/me/tasks?q=${pick(SEARCH_WORDS)}&status=pending`, headers: auth(pick(users)) }),
    // The "today" view, judged in the user's zone, in due order.
    'due-today': () => ({ method: 'GET', path: '/api/me/tasks?due=today&sort=due_at&order=asc', headers: auth(pick(users)) }),
    // Drag and drop: one of the user's tasks right after another (both top level).
    move: () => {
      const user = pick(users)
      const [task, after] = [anyTask(user), anyTask(user)]
      return { method: 'POST', path: `/api/me/tasks/${task}/move`, headers: { ...auth(user), ...json }, body: JSON.stringify({ parent_id: null, after_id: task === after ? null : after }) }
    },
    // The top level in the user's own order.
    'by-position': () => ({ method: 'GET', path: '/api/me/tasks?parent_id=none&sort=position', headers: auth(pick(users)) }),
    // 50 creates in one request (runBatch): each is the single createTask's whole path.
    batch: () => ({ method: 'POST', path: '/api/me/batch', headers: { ...auth(pick(users)), ...json }, body: JSON.stringify({ operations: Array.from({ length: 50 }, (_, i) => ({ op: 'create_task', body: { title: `Batch ${i} ${pick(SEARCH_WORDS)}`, tags: ['bench'] } })) }) }),
    sync: () => { const user = pick([...f.syncTokens.keys()]); return { method: 'GET', path: `/api/me/sync?since=${encodeURIComponent(f.syncTokens.get(user) as string)}`, headers: auth(user) } }
  }
  const reads = [s.list, s.get, s.search] as Array<() => Request>
  const writes = [s.create, s.update, s.complete] as Array<() => Request>
  s.mixed = () => (Math.random() < 0.7 ? pick(reads) : pick(writes))()
  return s
}

/** Each size's events scenario: its rounds' ratios of mixed with streams to mixed without. */
const streamsRatios: Record<string, number[]> = {}

/** The middle figure (the mean of the two middle ones for an even count); 0 for none. */
function median (figures: number[]): number {
  const sorted = [...figures].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return 0
  return sorted.length % 2 === 1 ? sorted[middle] as number : Number((((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2).toFixed(2))
}

/** The value below which `share` of the sorted figures lie. */
const percentile = (sorted: number[], share: number): number => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0

/** GET /api/me/events on a connection of its own; resolves with the response once its head is in. */
async function openStream (base: string, token: string, signal: AbortSignal): Promise<IncomingMessage> {
  return await new Promise((resolve, reject) => {
    const request = httpGet(`${base}/api/me/events`, { agent: false, headers: { authorization: `Bearer ${token}` }, signal }, resolve)
    request.on('error', reject)
  })
}

/** `\nevent: `: one in each SSE frame the service writes (the line after `id:`). */
const EVENT_LINE = Buffer.from('\nevent: ')

/**
 * Counts the events a stream receives, chunk by chunk, without copying them: a line split
 * between two chunks is found in the previous chunk's last 7 bytes joined to this one's first
 * 7 (7 bytes hold no whole `\nevent: `, so nothing is counted twice).
 */
function eventCounter (): { add: (chunk: Buffer) => void, count: () => number } {
  const tail = EVENT_LINE.length - 1
  let count = 0
  let carry = Buffer.alloc(0)
  return {
    add: (chunk) => {
      if (carry.length > 0 && Buffer.concat([carry, chunk.subarray(0, tail)]).includes(EVENT_LINE)) count++
      for (let at = chunk.indexOf(EVENT_LINE); at !== -1; at = chunk.indexOf(EVENT_LINE, at + EVENT_LINE.length)) count++
      // The stream's last 7 bytes, whatever the chunks' sizes.
      carry = chunk.length >= tail ? Buffer.from(chunk.subarray(chunk.length - tail)) : Buffer.concat([carry, chunk]).subarray(-tail)
    },
    count: () => count
  }
}

/**
 * Rounds of the events scenario, each mixed with the streams open then without (smoke: one).
 * Five, not three: a round moves by ±0.1 with the machine; with rounds whose median was 0.91
 * but 9 in 31 under 0.85, a median of three falls under 0.85 in about one run in five by
 * that alone, one of five in about one in seven (docs/benchmarks.md, "Event streams: every
 * feed call gathers").
 */
const STREAM_ROUNDS = smoke ? 1 : 5

/** Where the streams open: the service (pid undefined), or with --streams-apart a second service process. */
interface Streams { base: string, pid?: number }

/** One round's deliveries: timed (ms from commit to receipt), missing, and received by the other users' streams. */
interface Deliveries { latencies: number[], missing: number, received: number }

/**
 * One round of the events scenario: 1,000 streams opened (10 for each of the 100 users), the
 * mixed workload run while they are open, then the streams closed. A probe changes a task of
 * the first user every 200 ms and times, from its response (the commit) to each of that
 * user's 10 streams receiving the event, the delivery latency. Every stream is read in this
 * process, which shares the machine's cores with the service. Missing: the probe's events not received by
 * each of its user's streams, and for the other users, events a stream received fewer of than
 * the user's other streams.
 */
async function streamsRound (base: string, streams: Streams, f: Fixture, mixed: () => Request, pid: number | undefined, round: number): Promise<{ load: Figures, deliveries: Deliveries }> {
  const users = [...f.tokens.keys()]
  const probeUser = users[0] as string
  const stop = new AbortController()
  // Every stream listens to it: 1,000 listeners, not a leak.
  setMaxListeners(0, stop.signal)
  const arrivals = new Map<string, number[]>()
  const readers: Array<Promise<void>> = []
  /** The events each stream of the other users received, by user. */
  const received = new Map<string, Array<() => number>>()
  // A write of the load before, answered after its client went, commits within moments: not
  // between the first and the last of its user's streams opening.
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  for (const user of users) {
    const token = f.tokens.get(user) as string
    for (let i = 0; i < 10; i++) {
      // node:http rather than fetch: a web ReadableStream per stream costs this process (which
      // also drives the load) several times the CPU of a socket's 'data' events.
      let response = await openStream(streams.base, token, stop.signal)
      // The batch scenario before this one may still hold the service's connections for a few seconds.
      for (let retry = 0; response.statusCode === 503 && retry < 20; retry++) {
        response.resume()
        await new Promise((resolve) => setTimeout(resolve, 500))
        response = await openStream(streams.base, token, stop.signal)
      }
      if (response.statusCode !== 200) throw new Error(`stream ${readers.length + 1} did not open: ${response.statusCode ?? 0}`)
      const closed = new Promise<void>((resolve) => {
        response.on('close', resolve)
        response.on('error', () => { resolve() })
      })
      readers.push(closed)
      if (user !== probeUser) {
        const counter = eventCounter()
        response.on('data', counter.add)
        received.set(user, [...(received.get(user) ?? []), counter.count])
        continue
      }
      response.setEncoding('utf8')
      /** The end of the previous chunk after its last whole frame: a frame may span chunks. */
      let partial = ''
      response.on('data', (chunk: string) => {
        const now = Date.now()
        const text = partial + chunk
        const last = text.lastIndexOf('\n\n')
        const end = last === -1 ? 0 : last + 2
        partial = text.slice(end)
        for (const match of text.slice(0, end).matchAll(/"title":"(probe [^"]+)"/g)) {
          const title = match[1] as string
          if (!arrivals.has(title)) arrivals.set(title, [])
          arrivals.get(title)?.push(now)
        }
      })
    }
  }
  const sent = new Map<string, number>()
  const probing = { on: true }
  const probe = (async () => {
    for (let i = 0; probing.on; i++) {
      const title = `probe ${round}.${i}`
      try {
        const response = await fetch(`${base}/api/me/tasks/${f.taskIds.get(probeUser)?.[0] as string}`, { method: 'PATCH', headers: { authorization: `Bearer ${f.tokens.get(probeUser) as string}`, 'content-type': 'application/json' }, body: JSON.stringify({ title }) })
        if (response.ok) sent.set(title, Date.now())
      } catch {
        // A probe that failed is not timed (its event, if any, counts as nothing).
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  })()
  let figures: Figures
  // Apart: the RSS figure is the streams' process's.
  const apartSampler = streams.pid === undefined ? undefined : rssSampler(streams.pid)
  try {
    figures = await load(base, mixed, DURATION, pid)
    if (apartSampler !== undefined) figures = { ...figures, rssMb: apartSampler.stop() }
    probing.on = false
    await probe
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  } finally {
    apartSampler?.stop()
    probing.on = false
    stop.abort()
  }
  await Promise.all(readers)
  const latencies: number[] = []
  let missing = 0
  for (const [title, at] of sent) {
    const received = arrivals.get(title) ?? []
    missing += 10 - Math.min(10, received.length)
    for (const when of received) latencies.push(Math.max(0, when - at))
  }
  let events = 0
  for (const counts of received.values()) {
    const most = Math.max(...counts.map((count) => count()))
    for (const count of counts) {
      missing += most - count()
      events += count()
    }
  }
  return { load: figures, deliveries: { latencies, missing, received: events } }
}

/**
 * events: mixed without streams, then STREAM_ROUNDS rounds of mixed with 1,000 streams open
 * (streamsRound) followed by mixed without. On this shared machine req/s drifts by a third
 * from one minute to the next; alternating, each round's figure with streams is set against
 * the mean of the figures without on either side of it, and the rounds' median is the ratio.
 */
async function eventsScenario (base: string, streams: Streams, f: Fixture, mixed: () => Request, pid: number | undefined): Promise<{ load: Figures, without: Figures, ratios: number[], latency: Figures }> {
  const without: Figures[] = [await load(base, mixed, DURATION, pid)]
  const withStreams: Figures[] = []
  const ratios: number[] = []
  const latencies: number[] = []
  let missing = 0
  for (let round = 0; round < STREAM_ROUNDS; round++) {
    const { load: figures, deliveries } = await streamsRound(base, streams, f, mixed, pid, round)
    withStreams.push(figures)
    latencies.push(...deliveries.latencies)
    missing += deliveries.missing
    without.push(await load(base, mixed, DURATION, pid))
    const [before, after] = [without[round] as Figures, without[round + 1] as Figures]
    ratios.push(Number((figures.rps / Math.max(1, (before.rps + after.rps) / 2)).toFixed(2)))
    process.stdout.write(`# events round ${round + 1}: mixed ${figures.rps} req/s with the streams, ${before.rps} before and ${after.rps} after; ${deliveries.received} events received by the other users' streams; CPU µs a request with the streams and before: service ${figures.cpuUs ?? 0} and ${before.cpuUs ?? 0}, load generator ${figures.loaderUs ?? 0} and ${before.loaderUs ?? 0}, machine ${figures.machineUs ?? 0} and ${before.machineUs ?? 0}\n`)
  }
  latencies.sort((a, b) => a - b)
  return { load: mean(withStreams), without: mean(without), ratios, latency: { rps: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), non2xx: missing } }
}

/**
 * reminders: 10,000 reminders (smoke: 500) due within one minute (smoke: 10 s), on tasks of
 * the active users written straight into the database (its trigger arms them as any write
 * does), fired by the service running 2 workers. rps: reminders fired; p50/p99: lateness in
 * ms (the event's occurred_at after the reminder's time); non-2xx: missing plus duplicates.
 */
async function remindersScenario (url: string, users: string[]): Promise<Figures> {
  const count = smoke ? 500 : 10_000
  const spreadMs = (smoke ? 10 : 60) * 1000
  const db = createDatabase({ url, poolMax: 2 })
  try {
    // Writing them takes a while (each task's change is recorded and its reminder armed):
    // the first falls due once all are written.
    const first = Date.now() + (smoke ? 15_000 : 60_000)
    for (let offset = 0; offset < count; offset += 1000) {
      const rows = Array.from({ length: Math.min(1000, count - offset) }, (_, i) => {
        const n = offset + i
        return { user_id: users[n % users.length] as string, title: `reminder bench ${n}`, reminders: JSON.stringify([{ at: new Date(first + Math.floor(n * spreadMs / count)).toISOString() }]) }
      })
      await db.insertInto('tasks').values(rows).execute()
    }
    if (Date.now() > first) throw new Error('the reminders took longer to write than their lead time')
    const fired = async (): Promise<Array<{ lateness: number, task: string }>> => (await sql<{ lateness: number, task: string }>`
      SELECT (extract(epoch FROM e.occurred_at - (e.data->>'scheduled_for')::timestamptz) * 1000)::int AS lateness, e.entity_id::text AS task
      FROM events e WHERE e.type = 'reminder.fired' AND e.user_id = ANY(${users})
    `.execute(db)).rows
    const deadline = first + spreadMs + 30_000
    let rows = await fired()
    while (rows.length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      rows = await fired()
    }
    // A few seconds more: a reminder fired twice would show now.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    rows = await fired()
    const distinct = new Set(rows.map((row) => row.task)).size
    const lateness = rows.map((row) => Math.max(0, row.lateness)).sort((a, b) => a - b)
    return { rps: distinct, p50: percentile(lateness, 0.5), p99: percentile(lateness, 0.99), non2xx: (count - distinct) + (rows.length - distinct) }
  } finally {
    await db.destroy()
  }
}

/**
 * The service's start command (package.json "start"), so the bench runs it with the same node
 * flags; with `--cpu-prof DIR`, V8 profiles it and the floor, each process writing a
 * .cpuprofile into DIR when it stops (summarised by scripts/bench/cpu-profile-summary.ts).
 */
function serviceCommand (): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  const [node, ...args] = start.split(/\s+/)
  if (node !== 'node') throw new Error(`package.json start must run node, not: ${start}`)
  return [...profiling(), ...args]
}

function profiling (): string[] {
  const folder = values['cpu-prof']
  return folder === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(folder)}`]
}

function mean (runs: Figures[]): Figures {
  const avg = (pick: (f: Figures) => number): number => Math.round(runs.reduce((sum, f) => sum + pick(f), 0) / runs.length)
  const rss = runs.map((f) => f.rssMb).filter((v): v is number => v !== undefined)
  const cpu = {
    ...(runs.every((f) => f.cpuUs !== undefined) ? { cpuUs: avg((f) => f.cpuUs ?? 0) } : {}),
    ...(runs.every((f) => f.machineUs !== undefined) ? { machineUs: avg((f) => f.machineUs ?? 0) } : {})
  }
  return { rps: avg((f) => f.rps), p50: avg((f) => f.p50), p99: avg((f) => f.p99), non2xx: runs.reduce((sum, f) => sum + f.non2xx, 0), ...(rss.length === 0 ? {} : { rssMb: Math.max(...rss) }), ...cpu }
}

interface Loaded { base: string, next: () => Request, pid?: number | undefined }

/**
 * Servers loaded in alternation, three rounds each, so drift in the machine's load hits
 * all alike; the mean figures of each, in their order.
 */
async function alternate<T extends Loaded[]> (...servers: T): Promise<{ [K in keyof T]: Figures }> {
  const round = Math.max(2, Math.round(DURATION / 3))
  const runs: Figures[][] = servers.map(() => [])
  for (let i = 0; i < 3; i++) {
    for (const [n, server] of servers.entries()) runs[n]?.push(await load(server.base, server.next, round, server.pid))
  }
  return runs.map(mean) as { [K in keyof T]: Figures }
}

/** The floor must answer the service's bytes, or its figures compare different work. */
async function sameBytes (serviceBase: string, floorBase: string, f: Fixture): Promise<void> {
  const user = [...f.tokens.keys()][0] as string
  const headers = { authorization: `Bearer ${f.tokens.get(user) as string}` }
  const task = f.taskIds.get(user)?.[0] as string
  for (const [ours, theirs] of [['/api/me/tasks', '/floor/tasks'], [`/api/me/tasks/${task}`, `/floor/tasks/${task}`]]) {
    const [a, b] = await Promise.all([fetch(serviceBase + ours, { headers }), fetch(floorBase + theirs, { headers })])
    const [bodyA, bodyB] = [await a.text(), await b.text()]
    if (a.status !== 200 || bodyA !== bodyB || a.headers.get('etag') !== b.headers.get('etag')) {
      throw new Error(`the floor's answer to ${theirs} is not the service's to ${ours} (${a.status}/${b.status}, ${bodyA.length}/${bodyB.length} bytes)`)
    }
  }
}

/** The peer's folder (not part of this repository). */
const PEER_DIR = path.resolve(ROOT, process.env.BENCH_PEER_DIR ?? '../shared/peers/fastapi_seed')
/** The scenarios the peer runs: the part of the API it implements. */
const PEER_SCENARIOS = ['list', 'get', 'create', 'update', 'search', 'mixed']
const PEER_TARGET = 8
/** What the peer imports, and the Debian package of each (its README names the list). */
const PEER_PACKAGES: Record<string, string> = { fastapi: 'python3-fastapi', sqlmodel: 'python3-sqlmodel', uvicorn: 'python3-uvicorn', psycopg2: 'python3-psycopg2', jwt: 'python3-jwt', uvloop: 'python3-uvloop', httptools: 'python3-httptools', yaml: 'python3-yaml' }

/**
 * Refuses --peer before anything starts when the peer is not there or Debian's python3
 * (start.sh runs /usr/bin/python3) lacks a package it runs on: uvicorn would run without
 * uvloop and httptools, slower than the peer as its README describes it.
 */
function checkPeerInstalled (): void {
  if (!existsSync(path.join(PEER_DIR, 'start.sh'))) throw new Error(`--peer: no start.sh in ${PEER_DIR} (BENCH_PEER_DIR names the peer's folder)`)
  const modules = Object.keys(PEER_PACKAGES)
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))', ...modules], { encoding: 'utf8' })
  const missing = probe.status === 0 ? probe.stdout.split(/\s+/).filter((module) => module !== '') : modules
  if (missing.length > 0) {
    const lacking = probe.status === 0 ? missing.map((module) => PEER_PACKAGES[module]).join(', ') : 'python3 itself (/usr/bin/python3 did not run)'
    throw new Error(`--peer: Debian's python3 lacks ${lacking}; install them with:\n  apt-get update && apt-get install python3 ${Object.values(PEER_PACKAGES).join(' ')}`)
  }
}

/**
 * The peer on a new database of the bench's PostgreSQL server (same login), its 2 workers
 * ready, seeded with the service's data once its start has made its tables.
 */
async function startPeer (adminUrl: string, size: BenchSize): Promise<{ child: ChildProcess, base: string, stop: () => Promise<void>, url: string }> {
  const url = await recreateDatabase(adminUrl, `todo_bench_peer_${size}`)
  // SQLAlchemy 1.4 knows PostgreSQL as postgresql:// only.
  const env = { DATABASE_URL: url.replace(/^postgres:\/\//, 'postgresql://'), JWT_SECRET: SECRET, PYTHONDONTWRITEBYTECODE: '1' }
  const peer = await start((port) => [String(port), '2'], env, '/ready', { program: path.join(PEER_DIR, 'start.sh'), cwd: PEER_DIR, group: true })
  try {
    const db = createDatabase({ url, poolMax: 2 })
    try {
      const started = Date.now()
      const count = await seedPeer(db, size)
      process.stdout.write(`# seeded ${count.toLocaleString('en')} tasks (${size}) into the peer's tables in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    } finally {
      await db.destroy()
    }
  } catch (error) {
    await peer.stop()
    throw error
  }
  return { ...peer, url }
}

/**
 * The peer must hold the service's tasks and answer each of its scenarios with a 2xx, or its
 * figures compare different work: the first user's first page and a search (the same tasks,
 * field by field, but for ids and times), then one request of each scenario.
 */
async function samePeerData (serviceBase: string, peerBase: string, f: Fixture, peerScenarios: Record<string, () => Request>): Promise<void> {
  const user = [...f.tokens.keys()][0] as string
  const headers = { authorization: `Bearer ${f.tokens.get(user) as string}` }
  type Page = { items?: Array<Record<string, unknown>> }
  const digest = (page: Page): string => JSON.stringify((page.items ?? []).map((t) => [t.title, t.description, t.priority, t.completed, t.tags, t.due_at === null, t.category_id === null]))
  for (const query of ['/api/me/tasks', `/api/me/tasks?q=${SEARCH_WORDS[0] as string}&status=pending`]) {
    const [a, b] = await Promise.all([fetch(serviceBase + query, { headers }), fetch(peerBase + query, { headers })])
    const [ours, theirs] = [(await a.json()) as Page, (await b.json()) as Page]
    if (a.status !== 200 || b.status !== 200 || (ours.items?.length ?? 0) === 0 || digest(ours) !== digest(theirs)) {
      throw new Error(`the peer's answer to ${query} does not hold the service's tasks (${a.status}/${b.status}, ${ours.items?.length ?? 0}/${theirs.items?.length ?? 0} items)`)
    }
  }
  for (const name of PEER_SCENARIOS) {
    const request = (peerScenarios[name] as () => Request)()
    const response = await fetch(peerBase + request.path, { method: request.method, headers: request.headers, body: request.body })
    if (!response.ok) throw new Error(`the peer answers ${name}'s ${request.method} ${request.path} with ${response.status}: ${(await response.text()).slice(0, 300)}`)
  }
}

/** The service's environment as the bench runs it, on the database at `url`. */
const serviceEnv = (url: string): Record<string, string> => ({ DATABASE_URL: url, JWT_SECRET: SECRET, NODE_ENV: 'production', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', MIGRATE_ON_START: 'false', RLS_ENABLED, RESPONSE_VALIDATION: 'false' })

/** The scenarios one service, its floor (and the peer) run in turn on the size's first database. */
const FIRST_DATABASE_SCENARIOS = ['list', 'list-deep', 'get', 'sync', 'due-today', 'by-position', 'create', 'update', 'complete', 'move', 'search', 'mixed', 'batch']

/** FIRST_DATABASE_SCENARIOS, response validation and metrics, on the size's first database at `url`. */
async function firstDatabaseScenarios (adminUrl: string, size: BenchSize, url: string): Promise<Results> {
  const results: Results = {}
  const service = await start(serviceCommand(), serviceEnv(url), '/ready')
  const floor = await start([...profiling(), '--import', 'tsx', 'scripts/bench/floor-server.ts'], { DATABASE_URL: url, JWT_SECRET: SECRET }, '/floor/health')
  let peer: Awaited<ReturnType<typeof startPeer>> | undefined
  try {
    const f = await fixture(url, service.base)
    const s = scenarios(f)
    let peerScenarios: Record<string, () => Request> = {}
    if (values.peer === true && PEER_SCENARIOS.some(wanted)) {
      peer = await startPeer(adminUrl, size)
      // The service's requests, paths included (the peer's are the same), over the peer's task ids.
      peerScenarios = scenarios({ tokens: f.tokens, taskIds: await taskIdsOf(peer.url, [...f.tokens.keys()]), deepCursors: new Map(), syncTokens: new Map() })
      await samePeerData(service.base, peer.base, f, peerScenarios)
    }
    const users = [...f.tokens.keys()]
    const auth = (user: string): Record<string, string> => ({ authorization: `Bearer ${f.tokens.get(user) as string}` })
    const floorScenarios: Record<string, () => Request> = {
      list: () => ({ method: 'GET', path: '/floor/tasks', headers: auth(pick(users)) }),
      get: () => { const user = pick(users); return { method: 'GET', path: `/floor/tasks/${pick(f.taskIds.get(user) ?? [])}`, headers: auth(user) } }
    }
    await sameBytes(service.base, floor.base, f)
    // sync with the reads, before the write scenarios: after them, autovacuum works through
    // their dead rows on the large set's million-row tables while the next scenario runs.
    for (const name of FIRST_DATABASE_SCENARIOS) {
      if (!wanted(name)) continue
      if (name === 'sync') await prepareSync(service.base, f)
      // Loaded in alternation with the service: the floor, the peer, or both.
      const others: Array<[string, Loaded]> = []
      const floorNext = floorScenarios[name]
      if (floorNext !== undefined) others.push(['floor', { base: floor.base, next: floorNext }])
      const peerNext = peerScenarios[name]
      if (peer !== undefined && peerNext !== undefined && PEER_SCENARIOS.includes(name)) others.push(['peer', { base: peer.base, next: peerNext }])
      if (others.length === 0) {
        results[name] = await load(service.base, s[name] as () => Request, DURATION, service.child.pid)
      } else {
        const [ours, ...theirs] = await alternate({ base: service.base, next: s[name] as () => Request, pid: service.child.pid }, ...others.map(([, server]) => server))
        results[name] = ours
        for (const [n, [label]] of others.entries()) results[`${label}-${name}`] = theirs[n] as Figures
      }
      process.stdout.write(`# ${size} ${name}: ${results[name]?.rps ?? 0} req/s\n`)
    }
    if (wanted('response-validation')) {
      // What RESPONSE_VALIDATION (production: off) costs: a second service with it on, loaded in
      // alternation with the first, three rounds each, on list, get and mixed.
      const validating = await start(serviceCommand(), { ...serviceEnv(url), RESPONSE_VALIDATION: 'true' }, '/ready')
      try {
        for (const name of ['list', 'get', 'mixed']) {
          const next = s[name] as () => Request
          const [plain, checked] = await alternate({ base: service.base, next, pid: service.child.pid }, { base: validating.base, next, pid: validating.child.pid })
          results[`${name}-unvalidated`] = plain
          results[`${name}-validated`] = checked
        }
      } finally {
        await validating.stop()
      }
      process.stdout.write(`# ${size} response validation: list ${results['list-validated']?.rps ?? 0} vs ${results['list-unvalidated']?.rps ?? 0} req/s\n`)
    }
    if (wanted('metrics')) {
      // What METRICS_PORT costs: a second service with metrics on, scraped every second (a
      // Prometheus scrapes every 15 s or so: this is the cost with room to spare), loaded in
      // alternation with the first, three rounds each, on get and mixed.
      const metricsPort = await freePort()
      const measured = await start(serviceCommand(), { ...serviceEnv(url), METRICS_PORT: String(metricsPort) }, '/ready')
      const scraper = setInterval(() => { fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(async (response) => await response.text()).catch(() => {}) }, 1000)
      try {
        for (const name of ['get', 'mixed']) {
          const next = s[name] as () => Request
          const [off, on] = await alternate({ base: service.base, next, pid: service.child.pid }, { base: measured.base, next, pid: measured.child.pid })
          results[`${name}-metrics-off`] = off
          results[`${name}-metrics-on`] = on
        }
      } finally {
        clearInterval(scraper)
        await measured.stop()
      }
      process.stdout.write(`# ${size} metrics: get ${results['get-metrics-on']?.rps ?? 0} vs ${results['get-metrics-off']?.rps ?? 0} req/s\n`)
    }
  } finally {
    if (peer !== undefined) {
      // How the peer's work fell on its processes: uvicorn's workers share one socket, and a
      // burst of new connections may all land on one of them.
      const cpu = groupMembers(peer.child.pid as number).filter((member) => member.pid !== peer?.child.pid).map((member) => `${member.pid} ${member.cpuSeconds.toFixed(1)}`)
      process.stdout.write(`# ${size} peer: CPU seconds of its processes (pid seconds): ${cpu.join(', ')}\n`)
      await peer.stop()
    }
    await floor.stop()
    await service.stop()
  }
  return results
}

async function runSize (adminUrl: string, size: BenchSize): Promise<Results> {
  const results: Results = {}
  const onFirst = [...FIRST_DATABASE_SCENARIOS, 'response-validation', 'metrics'].some(wanted)
  const onCluster = wanted('mixed-2-workers') || wanted('reminders')
  // The events scenario has a database of its own: `--only events` seeds no other.
  const url = onFirst || onCluster ? await prepareDatabase(adminUrl, size) : undefined
  if (url !== undefined && onFirst) Object.assign(results, await firstDatabaseScenarios(adminUrl, size, url))
  if (wanted('events')) Object.assign(results, await eventsOnSeededData(adminUrl, size))
  if (url === undefined || !onCluster) return results
  const cluster = await start(serviceCommand(), { ...serviceEnv(url), WEB_CONCURRENCY: '2' }, '/ready')
  try {
    const f = await fixture(url, cluster.base)
    if (wanted('mixed-2-workers')) results['mixed-2-workers'] = await load(cluster.base, scenarios(f).mixed as () => Request, DURATION)
    if (wanted('reminders')) {
      results.reminders = await remindersScenario(url, [...f.tokens.keys()])
      process.stdout.write(`# ${size} reminders: ${results.reminders.rps} fired, lateness p99 ${results.reminders.p99} ms\n`)
    }
  } finally {
    await cluster.stop()
  }
  return results
}

/**
 * The events scenario on the size's seeded data, in a database and a service of its own,
 * whatever ran before it. On the database the other scenarios leave (create and batch add
 * 34,000 pending `Bench <word>` tasks that the load's searches match, the updates, completions
 * and moves churn the rest) its mixed load costs the machine more a request, and its ratio
 * depended on which scenarios had run: four full runs 0.80–0.84, `--only events` a median of
 * 0.87 (docs/benchmarks.md, "The events scenario on the seeded data").
 */
async function eventsOnSeededData (adminUrl: string, size: BenchSize): Promise<Results> {
  const url = await prepareDatabase(adminUrl, size, 'events')
  const env = serviceEnv(url)
  const results: Results = {}
  const service = await start(serviceCommand(), env, '/ready')
  try {
    const f = await fixture(url, service.base)
    // --streams-apart: the same service again, the streams' process.
    const apart = values['streams-apart'] === true ? await start(serviceCommand(), env, '/ready') : undefined
    let events: Awaited<ReturnType<typeof eventsScenario>>
    try {
      events = await eventsScenario(service.base, apart === undefined ? { base: service.base } : { base: apart.base, pid: apart.child.pid as number }, f, scenarios(f).mixed as () => Request, service.child.pid)
    } finally {
      await apart?.stop()
    }
    results['mixed-1000-streams'] = events.load
    results['mixed-no-streams'] = events.without
    streamsRatios[size] = events.ratios
    // rps: deliveries timed; p50/p99: ms from commit to receipt; non-2xx: deliveries missing.
    results['event-delivery'] = events.latency
    process.stdout.write(`# ${size} events: mixed ${events.load.rps} req/s with 1,000 streams, delivery p99 ${events.latency.p99} ms\n`)
  } finally {
    await service.stop()
  }
  return results
}

function table (size: string, results: Results): string {
  const lines = [`\n${size} data set, node ${process.versions.node}, ${DURATION} s a scenario, ${CONNECTIONS} connections, row-level security ${values.rls as string}`, 'scenario           req/s     p50 ms   p99 ms   non-2xx   RSS MB   CPU µs/req: service machine']
  for (const [name, r] of Object.entries(results)) {
    lines.push(`${name.padEnd(18)} ${String(r.rps).padStart(6)} ${String(r.p50).padStart(10)} ${String(r.p99).padStart(8)} ${String(r.non2xx).padStart(9)} ${r.rssMb === undefined ? '' : String(r.rssMb).padStart(8)}${r.cpuUs === undefined ? '' : String(r.cpuUs).padStart(22)}${r.machineUs === undefined ? '' : String(r.machineUs).padStart(8)}`)
  }
  return lines.join('\n')
}

async function main (): Promise<number> {
  const size = values.size as BenchSize
  if (size !== 'small' && size !== 'large') throw new Error('--size is small or large')
  if (values.peer === true) checkPeerInstalled()
  // The service and the floor run on this same binary (process.execPath): figures are per Node.
  process.stdout.write(`# node ${process.versions.node} (${process.execPath})\n# building the service\n`)
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
  const given = process.env.BENCH_DATABASE_URL
  const server = await openDatabaseServer({
    url: given === undefined || given === '' ? undefined : given,
    dataDir: path.join(ROOT, '.data/bench-pg'),
    port: Number(process.env.BENCH_EMBEDDED_PG_PORT ?? 54359)
  })
  const adminUrl = server.adminUrl
  try {
    const runs: Record<string, Results> = { small: await runSize(adminUrl, 'small') }
    if (size === 'large') runs.large = await runSize(adminUrl, 'large')
    for (const [name, results] of Object.entries(runs)) process.stdout.write(table(name, results) + '\n')

    const checks: Array<[string, boolean, ...string[]]> = []
    const small = runs.small as Results
    const ratio = (a: string, b: string, r: Results = small): number => Number(((r[a]?.rps ?? 0) / (r[b]?.rps ?? 1)).toFixed(2))
    const floorList = ratio('list', 'floor-list')
    const floorGet = ratio('get', 'floor-get')
    const p99Ratio = (a: string, b: string): number => Number(((small[a]?.p99 ?? 0) / Math.max(1, small[b]?.p99 ?? 1)).toFixed(2))
    const p99List = p99Ratio('list', 'floor-list')
    const p99Get = p99Ratio('get', 'floor-get')
    checks.push(
      [`list / floor = ${floorList} (target ≥ 0.8)`, floorList >= 0.8, 'list'],
      [`get / floor = ${floorGet} (target ≥ 0.8)`, floorGet >= 0.8, 'get'],
      [`list p99 / floor p99 = ${p99List} (target ≤ 1.5)`, p99List <= 1.5, 'list'],
      [`get p99 / floor p99 = ${p99Get} (target ≤ 1.5)`, p99Get <= 1.5, 'get']
    )
    const peak = Math.max(...Object.entries(small).filter(([name]) => name !== 'mixed-1000-streams' && name !== 'mixed-no-streams').map(([, r]) => r.rssMb ?? 0))
    checks.push([`peak RSS ${peak} MB (target < 200)`, peak < 200, 'list', 'get', 'create', 'update', 'complete', 'search', 'mixed'])
    const streamsRss = small['mixed-1000-streams']?.rssMb ?? 0
    const smallRatios = streamsRatios.small ?? []
    const withStreams = median(smallRatios)
    const delivery = small['event-delivery']
    const apart = values['streams-apart'] === true ? ', the streams on a process of their own' : ''
    checks.push(
      [`event delivery p99 ${delivery?.p99 ?? 0} ms over ${delivery?.rps ?? 0} deliveries, ${delivery?.non2xx ?? 0} missing (target < 250, none missing)`, (delivery?.p99 ?? Infinity) < 250 && delivery?.non2xx === 0, 'event-delivery'],
      [`RSS with 1,000 streams open ${streamsRss} MB${apart === '' ? '' : ', the streams\' process'} (target < 250)`, streamsRss < 250, 'mixed-1000-streams'],
      [`mixed with 1,000 streams / without = ${withStreams}, the median of ${smallRatios.length} rounds (${smallRatios.join(', ')}${apart}; target ≥ 0.85)`, withStreams >= 0.85, 'mixed-1000-streams', 'mixed-no-streams']
    )
    const validationCost = ['list', 'get', 'mixed'].map((name) => `${name} ${ratio(`${name}-validated`, `${name}-unvalidated`)}`).join(', ')
    checks.push([`RESPONSE_VALIDATION on / off (no target; off in production): ${validationCost}`, true, 'list-validated', 'get-validated', 'mixed-validated'])
    const metricsCost = ['get', 'mixed'].map((name) => `${name} ${ratio(`${name}-metrics-on`, `${name}-metrics-off`)}`).join(', ')
    checks.push([`METRICS_PORT on / off, scraped every second (no target): ${metricsCost}`, true, 'get-metrics-on', 'mixed-metrics-on'])
    const fired = small.reminders
    checks.push([`reminders: ${fired?.rps ?? 0} fired, ${fired?.non2xx ?? 0} missing or twice, lateness p99 ${fired?.p99 ?? 0} ms (target: all once, p99 < 5000)`, fired?.non2xx === 0 && (fired?.p99 ?? Infinity) < 5000, 'reminders'])
    const summary: Record<string, unknown> = { node: process.versions.node, duration: DURATION, connections: CONNECTIONS, rls: values.rls, floorRatio: { list: floorList, get: floorGet, listP99: p99List, getP99: p99Get }, peakRssMb: peak, streamsRatio: { median: withStreams, rounds: smallRatios, apart: values['streams-apart'] === true }, runs }
    if (values.peer === true) {
      const peerRatio: Record<string, Record<string, number>> = {}
      for (const [name, results] of Object.entries(runs)) {
        peerRatio[name] = {}
        for (const scenario of PEER_SCENARIOS.filter((scenario) => results[`peer-${scenario}`] !== undefined)) {
          const r = ratio(scenario, `peer-${scenario}`, results)
          peerRatio[name][scenario] = r
          checks.push([`${name === 'small' ? '' : `${name} `}${scenario} / peer = ${r} (target ≥ ${PEER_TARGET})`, r >= PEER_TARGET, scenario, `peer-${scenario}`])
        }
      }
      summary.peerRatio = peerRatio
    }
    if (runs.large !== undefined) {
      const large = runs.large
      // sync: an incremental sync of 10 changes costs the same in a 1,000-task account as in a 200-task one.
      for (const name of ['list', 'list-deep', 'search', 'sync']) {
        const growth = Number(((large[name]?.p50 ?? 0) / Math.max(small[name]?.p50 ?? 1, 1)).toFixed(2))
        checks.push([`${name} p50 large / small = ${growth} (target ≤ 1.5)`, growth <= 1.5, name])
      }
      const deep = Number(((large['list-deep']?.p50 ?? 0) / Math.max(large.list?.p50 ?? 1, 1)).toFixed(2))
      checks.push([`large list-deep p50 / list p50 = ${deep} (target ≤ 1.3)`, deep <= 1.3, 'list-deep', 'list'])
    }
    // A check stands on the figures it names; with --only some were not taken.
    const taken = checks.filter(([, , ...names]) => names.every((name) => Object.values(runs).every((r) => r[name] !== undefined)))
    process.stdout.write('\n' + taken.map(([label, ok]) => `${smoke ? 'INFO' : ok ? 'PASS' : 'MISS'} ${label}`).join('\n') + '\n')
    process.stdout.write(`BENCH_JSON ${JSON.stringify(summary)}\n`)
    return smoke || taken.every(([, ok]) => ok) ? 0 : 1
  } finally {
    await server.stop()
  }
}

main().then((code) => { process.exit(code) }, (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
