/**
 * The breaking-change rule of the contract's versioning policy (README "Versioning"):
 * a change api-smart-diff classifies as breaking needs a new major `info.version`.
 * Judged where the contract is used (`paths`, `webhooks`), where api-smart-diff follows each
 * $ref into its context: a component on its own has none, so a field added to a schema only
 * responses use reads as breaking there (as if a request sent it), while under the
 * operation that answers it, it is the compatible change it is.
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
  const used = diffs.filter((d) => d.path[0] === 'paths' || d.path[0] === 'webhooks')
  const breaking = [...new Set(used.filter((d) => d.type === 'breaking').map((d) => d.description ?? d.path.join('/')))]
  const bumped = major(after.info.version) > major(before.info.version)
  return { ok: breaking.length === 0 || bumped, breaking, others: used.length - breaking.length, before: before.info.version, after: after.info.version }
}
