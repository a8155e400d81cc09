/**
 * The breaking-change rule of the contract's versioning policy (README "Versioning"):
 * a change api-smart-diff classifies as breaking needs a new major `info.version`.
 */
import { apiCompare } from 'api-smart-diff'

export interface Verdict {
  ok: boolean
  breaking: string[]
  others: number
  before: string
  after: string
}

const major = (version: string): number => Number(/^(\d+)/.exec(version)?.[1] ?? NaN)

export function judge (before: { info: { version: string } }, after: { info: { version: string } }): Verdict {
  const { diffs } = apiCompare(before, after)
  const breaking = [...new Set(diffs.filter((d) => d.type === 'breaking').map((d) => d.description ?? d.path.join('/')))]
  const bumped = major(after.info.version) > major(before.info.version)
  return { ok: breaking.length === 0 || bumped, breaking, others: diffs.length - breaking.length, before: before.info.version, after: after.info.version }
}
