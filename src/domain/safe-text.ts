/**
 * Strings the store cannot keep faithfully: PostgreSQL text cannot hold U+0000, and a lone
 * UTF-16 surrogate has no UTF-8 encoding (it would be replaced, silently changing the data).
 */
import { escapePointer } from './json-pointer.js'

// With the `u` flag a paired surrogate is one code point, so only lone halves match.
const UNSAFE = /[\u0000\uD800-\uDFFF]/u // eslint-disable-line no-control-regex

export function isSafeText (value: string): boolean {
  return !UNSAFE.test(value)
}

/**
 * JSON Pointers (RFC 6901) to every unsafe string — value or key — in a parsed JSON value.
 * Iterative, not recursive: a 1 MiB body of nested arrays must not overflow the stack.
 */
export function findUnsafeStrings (root: unknown): string[] {
  const found: string[] = []
  const pending: Array<[unknown, string]> = [[root, '']]
  while (pending.length > 0) {
    const [value, pointer] = pending.pop() as [unknown, string]
    if (typeof value === 'string') {
      if (!isSafeText(value)) found.push(pointer)
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) pending.push([value[index], `${pointer}/${index}`])
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value).reverse()) {
        const path = `${pointer}/${escapePointer(key)}`
        if (!isSafeText(key)) found.push(path)
        pending.push([item, path])
      }
    }
  }
  return found
}
