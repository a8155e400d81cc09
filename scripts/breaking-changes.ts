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

type Contract = { info: { version: string } } & Record<string, unknown>

/**
 * The contract with every operation's `$ref` to a shared response (components/responses)
 * replaced by that response: api-smart-diff does not carry an operation's context through
 * such a reference, so a field added to a schema a shared response holds read as breaking
 * (required/… added, as in a request) where it is the compatible addition to a response.
 */
function inlineSharedResponses<T extends Contract> (contract: T): T {
  const copy = structuredClone(contract) as T & { components?: { responses?: Record<string, unknown> } }
  const shared = copy.components?.responses ?? {}
  const prefix = '#/components/responses/'
  for (const section of ['paths', 'webhooks'] as const) {
    const items = (copy[section] ?? {}) as Record<string, Record<string, { responses?: Record<string, { $ref?: string }> }>>
    for (const item of Object.values(items)) {
      for (const operation of Object.values(item)) {
        const responses = typeof operation === 'object' && operation !== null ? operation.responses : undefined
        if (responses === undefined) continue
        for (const [status, response] of Object.entries(responses)) {
          const name = response.$ref?.startsWith(prefix) === true ? response.$ref.slice(prefix.length) : undefined
          if (name !== undefined && shared[name] !== undefined) responses[status] = structuredClone(shared[name]) as { $ref?: string }
        }
      }
    }
  }
  return copy
}

/**
 * A parameter's `default` removed: api-smart-diff calls it breaking, but no client sends a
 * default, and generated clients leave an omitted parameter out either way; what a client can
 * notice is the service's answer to the omission, whose change the operation's description
 * must then say (a new default that depends on another parameter, like `order`'s on `sort`,
 * cannot be written as `default`). A default *changed* to another value stays breaking.
 */
const isRemovedParameterDefault = (d: { path: Array<string | number>, action: string }): boolean =>
  d.action === 'remove' && d.path.includes('parameters') && d.path.at(-1) === 'default' && d.path.at(-2) === 'schema'

export function judge (before: Contract, after: Contract): Verdict {
  const { diffs } = apiCompare(inlineSharedResponses(before), inlineSharedResponses(after))
  const used = diffs.filter((d) => d.path[0] === 'paths' || d.path[0] === 'webhooks')
  const breaking = [...new Set(used.filter((d) => d.type === 'breaking' && !isRemovedParameterDefault(d)).map((d) => d.description ?? d.path.join('/')))]
  const bumped = major(after.info.version) > major(before.info.version)
  return { ok: breaking.length === 0 || bumped, breaking, others: used.length - breaking.length, before: before.info.version, after: after.info.version }
}
