/**
 * npm run check:breaking [-- --base <git ref>]
 * Compares openapi.yaml with its version at the base: the latest release tag (v*), or before
 * the first tag, the merge base with origin/main. Fails on a breaking change unless
 * info.version has a new major.
 */
import '../src/node-version.js'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { parse } from 'yaml'
import { judge } from './breaking-changes.js'

const git = (...args: string[]): string | undefined => {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

function baseRef (given: string | undefined): string | undefined {
  if (given !== undefined) return given
  const tag = git('describe', '--tags', '--abbrev=0', '--match', 'v*')
  if (tag !== undefined && tag !== '') return tag
  const upstream = git('rev-parse', '--verify', '--quiet', 'origin/main') !== undefined ? 'origin/main' : 'main'
  return git('merge-base', 'HEAD', upstream)
}

const { values } = parseArgs({ options: { base: { type: 'string' } } })
const ref = baseRef(values.base)
const previous = ref === undefined ? undefined : git('show', `${ref}:openapi.yaml`)
if (ref === undefined || previous === undefined) {
  process.stdout.write('no earlier openapi.yaml to compare with: nothing to check\n')
  process.exit(0)
}
const verdict = judge(parse(previous), parse(readFileSync('openapi.yaml', 'utf8')))
process.stdout.write(`openapi.yaml ${verdict.before} (${ref.slice(0, 12)}) → ${verdict.after}: ${verdict.breaking.length} breaking, ${verdict.others} other changes\n`)
for (const change of verdict.breaking) process.stdout.write(`  breaking: ${change}\n`)
if (!verdict.ok) {
  process.stderr.write('Breaking changes need a new major info.version (see README "Versioning"), or a contract that stays compatible.\n')
  process.exit(1)
}
