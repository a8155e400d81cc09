/**
 * Does a response conform to openapi.yaml? The status must be declared for the operation,
 * headers the contract marks required must be present, a header the contract declares for
 * some answer may only be on the answers it is declared for, the content type must be
 * declared and a JSON body must validate against its schema; a response declared without
 * content must be empty. Requests no operation serves are held to the document's
 * `x-unrouted-responses` (a CORS preflight among them), and `x-cors` names the headers any
 * answer to a listed origin may carry. Shared by the test suite and `npm run contract-test` (live deployments).
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
  // A path parameter may be empty (`/api//tasks`): the router matches it, and the schema answers.
  pattern: new RegExp('^' + o.path.replace(/[.]/g, '\\.').replace(/{\w+}/g, '[^/]*') + '$')
}))
const byId = new Map(operations.map((o) => [o.operationId, o.operation]))
const responses = document.components.responses as Record<string, ResponseSpec>
/**
 * Answers to requests no operation serves, as the document's `x-unrouted-responses` declares
 * them: no route (404), the path with another method (405 with Allow), a URL that cannot be
 * read (400), the conventions' limits on any body (413, 415), a listed origin's preflight (204).
 */
const unrouted = document['x-unrouted-responses'] as Record<string, ResponseSpec | undefined>
/**
 * Headers that any answer to a listed origin may carry, whatever it declares (`x-cors`):
 * whether they belong is a matter of the request's Origin, which cors.test.ts holds to.
 */
const corsHeaders = new Set(Object.keys((document['x-cors'] as { headers?: Record<string, unknown> } | undefined)?.headers ?? {}).map((name) => name.toLowerCase()))
/** Every response header the contract declares anywhere, lowercased. */
const contractHeaders = new Set([
  ...Object.values(responses),
  ...Object.entries(unrouted).filter(([status]) => /^\d{3}$/.test(status)).map(([, spec]) => spec as ResponseSpec),
  ...operations.flatMap((o) => Object.values(o.operation.responses) as ResponseSpec[])
].flatMap((spec) => Object.keys(spec.headers ?? {}).map((name) => name.toLowerCase())))

/** The contract operation a request hits, if any. */
export function findOperation (method: string, url: string): { operationId: string, operation: OpenApiOperation } | undefined {
  const path = new URL(url, 'http://x').pathname
  // HEAD is answered by each GET route, as its GET without the body (RFC 9110 §9.3.2).
  const asked = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase()
  return operations.find((o) => o.method === asked && o.pattern.test(path))
}

/** The ways the response breaks the contract; empty when it conforms. */
export function contractViolations (method: string, url: string, response: ObservedResponse): string[] {
  const found = findOperation(method, url)
  return operationViolations(found?.operationId, method.toUpperCase() === 'HEAD' ? { ...response, body: undefined } : response)
}

/**
 * The ways a response of this operation (undefined: a request no operation serves, answered by
 * the not-found handler) breaks the contract. A body given as `undefined` is not looked at
 * (a stream: text/event-stream, an export), its status, headers and content type are.
 */
export function operationViolations (operationId: string | undefined, response: Omit<ObservedResponse, 'body'> & { body: string | undefined }): string[] {
  let spec: ResponseSpec | undefined
  if (operationId === undefined) {
    spec = unrouted[String(response.status)]
    if (spec === undefined) return [`status ${response.status} is not declared for a request no operation serves`]
  } else {
    const operation = byId.get(operationId)
    if (operation === undefined) return [`${operationId} is not an operation of the contract`]
    spec = operation.responses[String(response.status)] as ResponseSpec | undefined
    if (spec === undefined) return [`status ${response.status} is not declared for ${operationId}`]
  }
  const problems: string[] = []
  for (const [name, header] of Object.entries(spec.headers ?? {})) {
    if (header.required === true && response.headers[name.toLowerCase()] === undefined) problems.push(`header ${name} is missing`)
  }
  const declared = new Set(Object.keys(spec.headers ?? {}).map((name) => name.toLowerCase()))
  for (const name of Object.keys(response.headers)) {
    if (contractHeaders.has(name) && !declared.has(name) && !corsHeaders.has(name)) problems.push(`header ${name} is not declared for status ${response.status}`)
  }
  const mediaType = String(response.headers['content-type'] ?? '').split(';')[0]?.trim()
  if (spec.content === undefined) {
    if (response.body !== '' && response.body !== undefined) problems.push(`status ${response.status} must have no body`)
    return problems
  }
  const content = mediaType === undefined ? undefined : spec.content[mediaType]
  if (content === undefined) return [...problems, `content type ${mediaType === '' ? '(none)' : mediaType ?? '(none)'} is not declared for status ${response.status}`]
  if (response.body !== undefined && (mediaType === 'application/json' || mediaType === 'application/problem+json')) {
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
