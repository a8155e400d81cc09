/**
 * Inline every local `$ref` of the contract, keeping the keywords written beside it.
 *
 * Why not leave it to fastify-openapi-glue: its dereferencer (from
 * @seriousme/openapi-schema-validator) replaces a `$ref` node by its target and drops the
 * sibling keywords that OpenAPI 3.1 / JSON Schema 2020-12 allow (`default`, `readOnly`,
 * `description`), so `default: null` beside a `$ref` would silently stop applying.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Keywords that only annotate: merging them over the target cannot change what validates. */
const ANNOTATIONS = new Set(['description', 'default', 'readOnly', 'writeOnly', 'examples', 'example', 'title', 'deprecated', 'summary'])

function resolvePointer (root: Json, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, not ${ref}`)
  let node: Json = root
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`unresolvable $ref ${ref}`)
    node = (node as Record<string, Json>)[key] as Json
  }
  return node
}

export function dereference<T> (document: T): T {
  const root = document as unknown as Json
  const visit = (node: Json, trail: string[]): Json => {
    if (Array.isArray(node)) return node.map((item) => visit(item, trail))
    if (node === null || typeof node !== 'object') return node
    const { $ref, ...siblings } = node
    if (typeof $ref === 'string') {
      if (trail.includes($ref)) throw new Error(`recursive $ref ${$ref} is not supported`)
      const target = visit(resolvePointer(root, $ref), [...trail, $ref])
      const extra = Object.fromEntries(Object.entries(siblings).map(([key, value]) => [key, visit(value, trail)]))
      if (Object.keys(extra).every((key) => ANNOTATIONS.has(key)) && target !== null && typeof target === 'object' && !Array.isArray(target)) {
        return { ...target, ...extra }
      }
      return { allOf: [target], ...extra }
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, visit(value, trail)]))
  }
  return visit(root, []) as unknown as T
}
