/**
 * npm run check:breaking in a repository with no release tag: it compares with the contract
 * before its latest change, so removing a field without a new major fails and adding one
 * passes (it used to compare HEAD with itself there). With a release tag (v*): with the
 * contract of the latest one, however many commits followed it.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { parse, stringify } from 'yaml'
import { ROOT } from '../helpers/server.js'

const script = path.join(ROOT, 'scripts/check-breaking.ts')
const tsx = import.meta.resolve('tsx')

/**
 * A new git repository for the guard to run in, removed when the test ends: `git` runs a git
 * command there, `write` writes this project's openapi.yaml edited by `edit`, `check` runs
 * check:breaking there.
 */
function contractRepository (t: Test): { git: (...args: string[]) => void, write: (edit: (doc: any) => void) => void, check: () => { status: number | null, output: string } } {
  const repo = mkdtempSync(path.join(tmpdir(), 'todo-breaking-'))
  t.teardown(() => { rmSync(repo, { recursive: true, force: true }) })
  const contract = parse(readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8'))
  return {
    git: (...args) => { execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, stdio: 'ignore' }) },
    write: (edit) => {
      const doc = structuredClone(contract)
      edit(doc)
      writeFileSync(path.join(repo, 'openapi.yaml'), stringify(doc))
    },
    check: () => {
      const run = spawnSync(process.execPath, ['--import', tsx, script], { cwd: repo, encoding: 'utf8' })
      return { status: run.status, output: run.stdout + run.stderr }
    }
  }
}

t.test('check:breaking with no release tag', async (t) => {
  const { git, write, check } = contractRepository(t)
  git('init', '-q', '-b', 'main')
  write(() => {})
  git('add', 'openapi.yaml')
  git('commit', '-q', '-m', 'contract')
  t.equal(check().status, 0, 'a single contract has nothing to break')

  write((doc) => { delete doc.components.schemas.Task.properties.tags; doc.components.schemas.Task.required = doc.components.schemas.Task.required.filter((f: string) => f !== 'tags') })
  let result = check()
  t.equal(result.status, 1, 'an uncommitted removal of a response field, same major: fails')
  t.match(result.output, /breaking: .*tags/)
  git('commit', '-q', '-am', 'remove tags')
  t.equal(check().status, 1, 'committed: still compared with the contract before it, and fails')

  write((doc) => { doc.info.version = '2.0.0'; delete doc.components.schemas.Task.properties.tags; doc.components.schemas.Task.required = doc.components.schemas.Task.required.filter((f: string) => f !== 'tags') })
  git('commit', '-q', '-am', 'remove tags in 2.0.0')
  t.equal(check().status, 0, 'with a new major version: passes')

  write((doc) => { doc.info.version = '2.1.0'; delete doc.components.schemas.Task.properties.tags; doc.components.schemas.Task.required = doc.components.schemas.Task.required.filter((f: string) => f !== 'tags'); doc.components.schemas.WebhookDelivery.properties.note = { type: ['string', 'null'] }; doc.components.schemas.WebhookDelivery.required.push('note') })
  git('commit', '-q', '-am', 'add a response field in 2.1.0')
  result = check()
  t.equal(result.status, 0, 'a field added to a response, minor version: passes')
  t.match(result.output, /2\.0\.0 .*→ 2\.1\.0: 0 breaking/)

  // Problem is answered through shared responses (components/responses/NotFound …). (Task
  // is too, but it is also part of an import's body, where a new required field is breaking.)
  write((doc) => {
    doc.info.version = '2.2.0'; delete doc.components.schemas.Task.properties.tags; doc.components.schemas.Task.required = doc.components.schemas.Task.required.filter((f: string) => f !== 'tags')
    doc.components.schemas.WebhookDelivery.properties.note = { type: ['string', 'null'] }; doc.components.schemas.WebhookDelivery.required.push('note')
    doc.components.schemas.Problem.properties.trace = { type: ['string', 'null'] }; doc.components.schemas.Problem.required.push('trace')
  })
  git('commit', '-q', '-am', 'add a problem field in 2.2.0')
  result = check()
  t.equal(result.status, 0, 'a field added to a schema that shared responses answer, minor version: passes')
  t.match(result.output, /2\.1\.0 .*→ 2\.2\.0: 0 breaking/)
})

t.test('check:breaking with a release tag compares with the tagged contract', async (t) => {
  const { git, write, check } = contractRepository(t)
  const withoutTags = (doc: any): void => { delete doc.components.schemas.Task.properties.tags; doc.components.schemas.Task.required = doc.components.schemas.Task.required.filter((f: string) => f !== 'tags') }
  git('init', '-q', '-b', 'main')
  write((doc) => { doc.info.version = '1.0.0' })
  git('add', 'openapi.yaml')
  git('commit', '-q', '-m', 'release')
  git('tag', 'v1.0.0')
  // Two commits after the release: the removal, then an unrelated change. Without the tag the
  // guard would compare the last with the one before it, where the removal is already made.
  write((doc) => { doc.info.version = '1.1.0'; withoutTags(doc) })
  git('commit', '-q', '-am', 'remove tags')
  write((doc) => { doc.info.version = '1.1.0'; withoutTags(doc); doc.info.description += '\nMore.' })
  git('commit', '-q', '-am', 'describe more')
  let result = check()
  t.equal(result.status, 1, 'a removal since the release, same major: fails, whatever came after it')
  t.match(result.output, /v1\.0\.0/)
  t.match(result.output, /breaking: .*tags/)
  write((doc) => { doc.info.version = '2.0.0'; withoutTags(doc) })
  git('commit', '-q', '-am', '2.0.0')
  result = check()
  t.equal(result.status, 0, 'with a new major version: passes')
})
