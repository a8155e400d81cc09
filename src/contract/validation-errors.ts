/**
 * Ajv errors → the `errors` list of a validation problem: a JSON Pointer into the body, or
 * the name of the query/path parameter or header, with a message a person can act on.
 */
import type { FastifySchemaValidationError } from 'fastify'
import { readOnlyProperties } from './index.js'
import type { FieldError } from '../errors.js'
import { escapePointer, unescapePointer } from '../domain/json-pointer.js'

type SchemaErrorDataVar = 'body' | 'headers' | 'params' | 'querystring'

function detailOf (error: FastifySchemaValidationError): { path: string, detail: string } {
  const params = error.params as Record<string, unknown>
  if (error.keyword === 'additionalProperties') {
    const name = String(params.additionalProperty)
    return { path: `${error.instancePath}/${escapePointer(name)}`, detail: readOnlyProperties().has(name) ? 'is read-only' : 'is not a known property' }
  }
  // A member the schema forbids in this case (`properties: { x: false }`), such as an `id` on a batch's create_task.
  if (error.keyword === 'false schema') return { path: error.instancePath, detail: 'is not allowed here' }
  if (error.keyword === 'required') {
    return { path: `${error.instancePath}/${escapePointer(String(params.missingProperty))}`, detail: 'is required' }
  }
  // A bare "must match pattern ^\s*\S(?:…" helps nobody: give the schema's own description.
  const description = (error as unknown as { parentSchema?: { description?: unknown } }).parentSchema?.description
  if (error.keyword === 'pattern' && typeof description === 'string') {
    return { path: error.instancePath, detail: `is invalid: ${description.trim().replace(/\s+/g, ' ')}` }
  }
  return { path: error.instancePath, detail: error.message ?? 'is invalid' }
}

export function toFieldErrors (errors: FastifySchemaValidationError[], context: SchemaErrorDataVar | undefined): FieldError[] {
  const seen = new Set<string>()
  const result: FieldError[] = []
  for (const error of errors) {
    // `if`/`then` and combinator wrappers repeat what their branches said.
    if (error.keyword === 'if' || error.keyword === 'allOf') continue
    const { path, detail } = detailOf(error)
    let entry: FieldError
    if (context === 'body') {
      entry = { pointer: path, detail }
    } else {
      const name = unescapePointer(path.split('/')[1] ?? '')
      entry = context === 'headers' ? { header: name, detail } : { parameter: name, detail }
    }
    const key = JSON.stringify(entry)
    if (!seen.has(key)) {
      seen.add(key)
      result.push(entry)
    }
  }
  return result
}
