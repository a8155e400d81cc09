/**
 * A digest of a JSON request body that ignores member order, so the "same body" of a retry
 * is recognised however the client serialised it.
 */
import { createHash } from 'node:crypto'

function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export function requestHash (body: unknown): string {
  return createHash('sha256').update(canonical(body)).digest('hex')
}
