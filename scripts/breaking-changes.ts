/**
 * The breaking-change rule of the contract's versioning policy (README "Versioning"):
 * a change api-smart-diff classifies as breaking needs a new major `info.version`.
 * Judged where the contract is used (`paths`, `webhooks`), where api-smart-diff follows each
 * $ref into its context: a component on its own has none, so a field added to a schema only
 * responses use reads as breaking there (as if a request sent it), while under the
 * operation that answers it, it is the compatible change it is.
 */
import { apiCompare } from 'api-smart-diff'
import { dereference } from '../src/contract/dereference.js'

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

type Schema = { type?: unknown, minimum?: number, maximum?: number, enum?: unknown[], const?: unknown } | undefined
const INT32 = { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 }

/**
 * The schema holding the changed keyword, in a contract with every $ref followed. api-smart-diff
 * reports a path through a $ref as through `allOf: [<the target>]`; where the document has no
 * such allOf, that step is the node itself.
 */
function parentSchema (contract: unknown, path: Array<string | number>): Schema {
  let node = contract as Record<string | number, unknown> | undefined
  const keys = path.slice(0, -1)
  for (let i = 0; i < keys.length && node !== undefined; i++) {
    const key = keys[i] as string | number
    if (key === 'allOf' && node.allOf === undefined && keys[i + 1] === 0) { i++; continue }
    node = node[key] as Record<string | number, unknown> | undefined
  }
  return node as Schema
}

/**
 * A number format added to an integer for the generators of typed languages (Java, Go, C#):
 * `int64`, or `int32` where the schema's bounds already lie within 32 bits. api-smart-diff
 * calls any added format breaking (a request value could newly fail it); these cannot fail
 * a value the schema allowed before.
 */
function isIntegerFormatAdded (d: { path: Array<string | number>, action: string, after?: unknown }, after: unknown): boolean {
  if (d.action !== 'add' || d.path.at(-1) !== 'format' || (d.after !== 'int32' && d.after !== 'int64')) return false
  const schema = parentSchema(after, d.path)
  if (schema?.type !== 'integer') return false
  return d.after === 'int64' || (schema.minimum !== undefined && schema.maximum !== undefined && schema.minimum >= INT32.minimum && schema.maximum <= INT32.maximum)
}

/** A `format` dropped from a schema whose values are listed (`enum`, `const`): the values stay exactly those. */
function isFormatDroppedFromListedValues (d: { path: Array<string | number>, action: string }, before: unknown): boolean {
  if (d.action !== 'remove' || d.path.at(-1) !== 'format') return false
  const schema = parentSchema(before, d.path)
  return schema?.enum !== undefined || schema?.const !== undefined
}

/** The one-character tokens of a rewritten pattern: a surrogate pair, or one code unit that is no surrogate. */
const PAIR = '[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]'
const visible = `(?:${PAIR}|[^\\s\\uD800-\\uDFFF])`
const anyChar = `(?:${PAIR}|[^\\uD800-\\uDFFF])`
/** "1..n characters after trimming", written to count code points with or without Unicode mode. */
export const trimmedLengthPattern = (max: number): string => `^\\s*${visible}(?:${anyChar}{0,${max - 2}}${visible})?\\s*$`

/**
 * Pattern rewrites that accept exactly the strings the pattern before them accepted (of the
 * well-formed strings: lone surrogates the service refuses before any schema), each proven so
 * by test/scripts/pattern-equivalence.test.ts. api-smart-diff calls any replaced pattern
 * breaking, since it cannot compare two regular expressions; for these the test has.
 * The titles' and category names' length rules: written with `[\s\S]{0,198}`, a validator
 * without Unicode mode (zod, so every zod-based generated client) counted UTF-16 units and
 * refused a title of 150 emoji that the service takes.
 */
export const EQUIVALENT_PATTERNS: ReadonlyArray<readonly [string, string]> = [
  ['^\\s*\\S(?:[\\s\\S]{0,198}\\S)?\\s*$', trimmedLengthPattern(200)],
  ['^\\s*\\S(?:[\\s\\S]{0,48}\\S)?\\s*$', trimmedLengthPattern(50)]
]

const isEquivalentPattern = (d: { path: Array<string | number>, action: string, before?: unknown, after?: unknown }): boolean =>
  d.action === 'replace' && d.path.at(-1) === 'pattern' && EQUIVALENT_PATTERNS.some(([before, after]) => d.before === before && d.after === after)

export function judge (before: Contract, after: Contract): Verdict {
  const { diffs } = apiCompare(inlineSharedResponses(before), inlineSharedResponses(after))
  const resolvedBefore = dereference(inlineSharedResponses(before))
  const resolvedAfter = dereference(inlineSharedResponses(after))
  const used = diffs.filter((d) => d.path[0] === 'paths' || d.path[0] === 'webhooks')
  const compatible = (d: (typeof diffs)[number]): boolean => isRemovedParameterDefault(d) || isEquivalentPattern(d) || isIntegerFormatAdded(d, resolvedAfter) || isFormatDroppedFromListedValues(d, resolvedBefore)
  const breaking = [...new Set(used.filter((d) => d.type === 'breaking' && !compatible(d)).map((d) => d.description ?? d.path.join('/')))]
  const bumped = major(after.info.version) > major(before.info.version)
  return { ok: breaking.length === 0 || bumped, breaking, others: used.length - breaking.length, before: before.info.version, after: after.info.version }
}
