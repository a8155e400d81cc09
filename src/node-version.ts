/**
 * Stops the process at once, with one sentence, on a Node.js that package.json's
 * engines.node does not name (the lines CI runs the whole suite on). Imported first by
 * src/server.ts and by every script, and run on its own before `npm start` builds and before
 * `npm run dev` starts watching: ESM evaluates it before any other module of ours.
 * It is meant to run on the old Node it refuses (checked on 16 and 18): plain ES2020,
 * node:module and semver only. semver is npm's own range grammar, so engines.node means here
 * exactly what it means to npm. package.json is read through the package's own name
 * (exports "./package.json"), which resolves the same from src/ and from dist/src/.
 */
import { createRequire } from 'node:module'
import semver from 'semver'

/** "20.19+, 22.13+, 24 and 26" for "^20.19.0 || ^22.13.0 || ^24.0.0 || ^26.0.0". */
export function describeNodeRange (range: string): string {
  const lines = new semver.Range(range).set.map((comparators) => {
    const exact = comparators.find((c) => c.operator === '')
    if (exact !== undefined) return exact.value
    const floor = comparators.find((c) => c.operator === '>=')?.semver
    if (floor === undefined) return comparators.map((c) => c.value).join(' ')
    const bounded = comparators.some((c) => c.operator === '<')
    if (floor.patch !== 0) return `${floor.major}.${floor.minor}.${floor.patch}+`
    if (floor.minor !== 0 || !bounded) return `${floor.major}.${floor.minor}+`
    return String(floor.major)
  })
  return lines.length <= 1 ? lines.join('') : `${lines.slice(0, -1).join(', ')} and ${lines[lines.length - 1] ?? ''}`
}

/** The sentence that refuses `version`, or undefined when `range` admits it. */
export function unsupportedNodeMessage (version: string, range: string): string | undefined {
  if (semver.satisfies(version, range)) return undefined
  return `todo-contract supports Node.js ${describeNodeRange(range)}; this is Node.js ${version}.`
}

/** engines.node of this package's package.json. */
export function supportedNodeRange (): string {
  const manifest = createRequire(import.meta.url)('todo-contract/package.json') as { engines?: { node?: unknown } }
  const range = manifest.engines?.node
  if (typeof range !== 'string') throw new Error('package.json has no engines.node')
  return range
}

const message = unsupportedNodeMessage(process.versions.node, supportedNodeRange())
if (message !== undefined) {
  process.stderr.write(message + '\n')
  process.exit(1)
}
