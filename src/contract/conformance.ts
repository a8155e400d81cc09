/**
 * Does a response conform to openapi.yaml? The status must be declared for the operation,
 * headers the contract marks required must be present, the content type must be declared
 * and a JSON body must validate against its schema; a response declared without content must
 * be empty. Shared by the test suite and `npm run contract-test` (live deployments).
 */
import { dereferencedContract, listOperations, type OpenApiOperation } from './index.js'
import { createAjv } from './validators.js'

export interface ObservedResponse {
  status: number
  /** Header names lowercased. */
  headers: Record<string, string | string[] | number | undefined>
  body: string
}

interface ResponseSpec {
  content?: Record<string, { schema: object }>
  headers?: Record<string, { required?: boolean }>
}

const ajv = createAjv({ useDefaults: false, coerceTypes: false, verbose: false })
const document = dereferencedContract()
const operations = listOperations(document).map((o) => ({
  ...o,
  pattern: new RegExp('^' + o.path.replace(/[.]/g, '\\.').replace(/{\w+}/g, '[^/]+') + '$')
}))
const problemSchema = (document.components.schemas as Record<string, object>).Problem as object

/** The contract operation a request hits, if any. */
export function findOperation (method: string, url: string): { operationId: string, operation: OpenApiOperation } | undefined {
  const path = new URL(url, 'http://x').pathname
  return operations.find((o) => o.method === method.toUpperCase() && o.pattern.test(path))
}

/** The ways the response breaks the contract; empty when it conforms. */
export function contractViolations (method: string, url: string, response: ObservedResponse): string[] {
  const found = findOperation(method, url)
  let spec: ResponseSpec | undefined
  if (found === undefined) {
    // Unknown routes are answered by the not-found handler: a Problem.
    spec = { content: { 'application/problem+json': { schema: problemSchema } } }
  } else {
    spec = found.operation.responses[String(response.status)] as ResponseSpec | undefined
    if (spec === undefined) return [`status ${response.status} is not declared for ${found.operationId}`]
  }
  const problems: string[] = []
  for (const [name, header] of Object.entries(spec.headers ?? {})) {
    if (header.required === true && response.headers[name.toLowerCase()] === undefined) problems.push(`header ${name} is missing`)
  }
  const mediaType = String(response.headers['content-type'] ?? '').split(';')[0]?.trim()
  if (spec.content === undefined) {
    if (response.body !== '') problems.push(`status ${response.status} must have no body`)
    return problems
  }
  const content = mediaType === undefined ? undefined : spec.content[mediaType]
  if (content === undefined) return [...problems, `content type ${mediaType === '' ? '(none)' : mediaType ?? '(none)'} is not declared for status ${response.status}`]
  if (mediaType === 'application/json' || mediaType === 'application/problem+json') {
    let body: unknown
    try {
      body = JSON.parse(response.body)
    } catch {
      return [...problems, 'body is not JSON']
    }
    const validate = ajv.compile(content.schema)
    if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message ?? 'is invalid'}`))
  }
  return problems
}
