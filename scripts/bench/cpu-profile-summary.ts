/**
 * Where a process's CPU went, from a V8 CPU profile (`node --cpu-prof`): self time summed by
 * the package or service module each sampled function belongs to, largest first, as shares
 * of all samples. For docs/benchmarks.md's breakdown of the service against the floor.
 *
 *   tsx scripts/bench/cpu-profile-summary.ts PROFILE.cpuprofile [--top 25]
 *
 * Profiles are large and machine-specific: keep them out of git (.gitignore has *.cpuprofile).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string }, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
const file = positionals[0]
if (file === undefined) throw new Error('usage: tsx scripts/bench/cpu-profile-summary.ts PROFILE.cpuprofile [--top 25]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

/** A sampled function's owner: its npm package, a module of the service, Node itself, or V8's own states. */
function owner (node: ProfileNode): string {
  const { url, functionName } = node.callFrame
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const packages = url.split('/node_modules/')
  if (packages.length > 1) {
    const rest = (packages.at(-1) as string).split('/')
    return (rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : rest[0]) ?? url
  }
  if (url.startsWith('node:')) return url
  const source = /\/(src|dist\/src)\/(.+?)\.(js|ts)$/.exec(url)
  return source === null ? url : `service: ${source[2] as string}`
}

const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const time = new Map<string, number>()
let total = 0
profile.samples.forEach((id, index) => {
  const node = byId.get(id)
  if (node === undefined) return
  const delta = profile.timeDeltas[index] ?? 0
  total += delta
  const key = owner(node)
  time.set(key, (time.get(key) ?? 0) + delta)
})
const rows = [...time.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))
process.stdout.write(`${(total / 1e6).toFixed(1)} s sampled\n`)
for (const [key, micros] of rows) process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${key}\n`)
