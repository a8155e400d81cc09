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
    if (httpPart === 'body') return allowAbsent(bodies.compile(schema as object) as ValidateFunction)
    const prepared = httpPart === 'headers' ? lowercaseHeaderNames(schema as Record<string, unknown>) : schema
    return refuseNonFinite(parameters.compile(prepared as object) as ValidateFunction)
  }
}

/**
 * No body (none was sent, or an empty one under a JSON content type) passes the body's
 * schema: whether one is required is contract-routes' checkBody's to say (400), and Fastify
 * runs the schema of the request's media type even on an empty body. Fastify hands an absent
 * body to the validator as null (fastify/lib/validation.js, validateParam), like a JSON
 * `null`; it passes the request along as parentData to a function with Ajv's `schemaEnv`,
 * so the wrapper keeps that property and tells the two apart there.
 */
function allowAbsent (validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown, context?: { parentData?: Record<string, unknown>, parentDataProperty?: string }) => {
    if (data === null && context?.parentData !== undefined && context.parentData[context.parentDataProperty ?? 'body'] === undefined) {
      checked.errors = null
      return true
    }
    const valid = validate(data, context as never)
    checked.errors = validate.errors
    return valid
  }) as ValidateFunction
  checked.schemaEnv = validate.schemaEnv
  return checked
}

const isNonFinite = (value: unknown): boolean => typeof value === 'number' && !Number.isFinite(value)

/**
 * Ajv coerces a parameter such as `limit=1e999` to Infinity without an error (its integer
 * coercion tests `!(x % 1)`, which NaN passes), and then skips `minimum`/`maximum`, whose
 * checks it guards with isFinite (ajv/dist/compile/validate/dataType.js, coerceData), so
 * Infinity would reach SQL. After a pass, any non-finite number among the values is a 400.
 */
function refuseNonFinite (validate: ValidateFunction): ValidateFunction {
  const checked = ((data: Record<string, unknown> | undefined, context?: object) => {
    const valid = validate(data, context as never)
    checked.errors = validate.errors
    if (!valid) return false
    const bad = Object.entries(data ?? {}).filter(([, value]) => isNonFinite(value) || (Array.isArray(value) && value.some(isNonFinite)))
    if (bad.length === 0) return true
    checked.errors = bad.map(([name]) => ({ instancePath: `/${name}`, schemaPath: '#/type', keyword: 'type', params: { type: 'number' }, message: 'must be a finite number' }))
    return false
  }) as ValidateFunction
  // Fastify passes the request as parentData only to a function with Ajv's schemaEnv.
  checked.schemaEnv = validate.schemaEnv
  return checked
}
