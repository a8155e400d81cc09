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

export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  const bodies = createAjv({ coerceTypes: false })
  const parameters = createAjv({ coerceTypes: 'array' })
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodies : parameters
    return ajv.compile(schema as object) as ValidateFunction
  }
}
