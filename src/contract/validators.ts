/**
 * Ajv for the contract's JSON Schema 2020-12 (OpenAPI 3.1) schemas, used as Fastify's
 * validator compiler. Bodies are validated strictly (no type coercion: `"true"` is not a
 * boolean); path, query and header values arrive as strings and are coerced to the types the
 * contract declares. Every error is collected so a 400 names each offending field.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { Options, ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

// ajv-formats is CommonJS with its function on `default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

const OPENAPI_KEYWORDS = ['example', 'discriminator', 'xml', 'externalDocs']

export function createAjv (options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
    useDefaults: true,
    removeAdditional: false,
    // parentSchema in errors, so a failed `pattern` can be explained by its description.
    verbose: true,
    ...options
  })
  addFormats(ajv)
  ajv.addVocabulary(OPENAPI_KEYWORDS)
  return ajv
}

/**
 * Node gives header names lowercased, the contract spells them as on the wire (`If-Match`).
 * Fastify lowercases header schemas itself only for its default compiler: with a custom one
 * (ours) it passes them through untouched (fastify/lib/validation.js, `isCustom`), so a
 * header rule would silently never apply. We lowercase here.
 */
function lowercaseHeaderNames (schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties as Record<string, unknown> | undefined
  const required = schema.required as string[] | undefined
  return {
    ...schema,
    ...(properties === undefined ? {} : { properties: Object.fromEntries(Object.entries(properties).map(([name, rule]) => [name.toLowerCase(), rule])) }),
    ...(required === undefined ? {} : { required: required.map((name) => name.toLowerCase()) })
  }
}

export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  const bodies = createAjv({ coerceTypes: false })
  const parameters = createAjv({ coerceTypes: 'array' })
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return bodies.compile(schema as object) as ValidateFunction
    const prepared = httpPart === 'headers' ? lowercaseHeaderNames(schema as Record<string, unknown>) : schema
    return parameters.compile(prepared as object) as ValidateFunction
  }
}
