/**
 * npm run check:breaking [-- --base <git ref>]
 * Compares openapi.yaml with the last released contract: the latest release tag (v*); before
 * the first tag, the contract as it was before its latest change (the version committed at
 * HEAD when the file has uncommitted edits, else the one before the last commit that changed
 * it). Fails on a breaking change unless info.version has a new major.
 */
import '../src/node-version.js'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { parse } from 'yaml'
import { judge } from './breaking-changes.js'

/** A git command's output (as is, or trimmed), or undefined when it fails. */
const git = (...args: string[]): string | undefined => gitRaw(...args)?.trim()
const gitRaw = (...args: string[]): string | undefined => {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return undefined
  }
}

/** The base to compare with, and the openapi.yaml it holds. */
function base (given: string | undefined): { ref: string, contract: string } | undefined {
  const at = (ref: string): { ref: string, contract: string } | undefined => {
    const contract = gitRaw('show', `${ref}:openapi.yaml`)
    return contract === undefined ? undefined : { ref, contract }
  }
  if (given !== undefined) return at(given)
  const tag = git('describe', '--tags', '--abbrev=0', '--match', 'v*')
  if (tag !== undefined && tag !== '') return at(tag)
  const current = readFileSync('openapi.yaml', 'utf8')
  const committed = at('HEAD')
  if (committed !== undefined && committed.contract !== current) return committed
  // The newest commit that changed the file made it what it is now: compare with its parent's.
  const changed = git('log', '-1', '--format=%H', 'HEAD', '--', 'openapi.yaml')
  return changed === undefined || changed === '' ? undefined : at(`${changed}^`)
}

const { values } = parseArgs({ options: { base: { type: 'string' } } })
const found = base(values.base)
if (found === undefined) {
  process.stdout.write('no earlier openapi.yaml to compare with: nothing to check\n')
  process.exit(0)
}
const { ref, contract: previous } = found
const verdict = judge(parse(previous), parse(readFileSync('openapi.yaml', 'utf8')))
process.stdout.write(`openapi.yaml ${verdict.before} (${/^[0-9a-f]{40}\^$/.test(ref) ? `${ref.slice(0, 12)}^` : ref}) → ${verdict.after}: ${verdict.breaking.length} breaking, ${verdict.others} other changes\n`)
for (const change of verdict.breaking) process.stdout.write(`  breaking: ${change}\n`)
if (!verdict.ok) {
  process.stderr.write('Breaking changes need a new major info.version (see README "Versioning"), or a contract that stays compatible.\n')
  process.exit(1)
}
