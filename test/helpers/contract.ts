/**
 * Checks a response against openapi.yaml: the status must be declared for the operation,
 * the content type and body must match the declared schema, a response declared without
 * content must be empty, and headers the contract marks required must be present.
 * Every route test goes through `inject`, so drift between service and contract fails fast.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { dereferencedContract, listOperations, type OpenApiOperation } from '../../src/contract/index.js'
import { createAjv } from '../../src/contract/validators.js'

const ajv = createAjv({ useDefaults: false, coerceTypes: false, verbose: false })
const operations = listOperations(dereferencedContract()).map((o) => ({
  ...o,
  pattern: new RegExp('^' + o.path.replace(/[.]/g, '\\.').replace(/{\w+}/g, '[^/]+') + '$')
}))

interface ResponseSpec {
  content?: Record<string, { schema: object }>
  headers?: Record<string, { required?: boolean }>
}

export function findOperation (method: string, url: string): (typeof operations)[number] | undefined {
  const path = url.split('?')[0] ?? url
  return operations.find((o) => o.method === method.toUpperCase() && o.pattern.test(path))
}

/** The ways a response breaks the contract; empty when it conforms. */
export function contractViolations (method: string, url: string, response: LightMyRequestResponse): string[] {
  const found = findOperation(method, url)
  // Unknown routes are answered by the not-found handler: a Problem, checked as such.
  const operation: OpenApiOperation | undefined = found?.operation
  const problems: string[] = []
  let spec: ResponseSpec | undefined
  if (operation === undefined) {
    spec = { content: { 'application/problem+json': { schema: (dereferencedContract().components.schemas as Record<string, object>).Problem as object } } }
  } else {
    spec = operation.responses[String(response.statusCode)] as ResponseSpec | undefined
    if (spec === undefined) return [`status ${response.statusCode} is not declared for ${found?.operationId ?? url}`]
  }
  for (const [name, header] of Object.entries(spec.headers ?? {})) {
    if (header.required === true && response.headers[name.toLowerCase()] === undefined) problems.push(`header ${name} is missing`)
  }
  const mediaType = String(response.headers['content-type'] ?? '').split(';')[0]?.trim()
  if (spec.content === undefined) {
    if (response.body !== '') problems.push(`status ${response.statusCode} must have no body`)
    return problems
  }
  const content = mediaType === undefined ? undefined : spec.content[mediaType]
  if (content === undefined) return [...problems, `content type ${mediaType ?? '(none)'} is not declared for status ${response.statusCode}`]
  if (mediaType === 'application/json' || mediaType === 'application/problem+json') {
    let body: unknown
    try {
      body = JSON.parse(response.body)
    } catch {
      return [...problems, 'body is not JSON']
    }
    const validate = ajv.compile(content.schema)
    if (!validate(body)) {
      problems.push(...(validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message ?? 'is invalid'}`))
    }
  }
  return problems
}

/** app.inject, plus a tap assertion that the response conforms to the contract. */
export async function inject (t: Test, app: FastifyInstance, options: InjectOptions & { method: string, url: string }): Promise<LightMyRequestResponse> {
  const response = await app.inject(options)
  const violations = contractViolations(options.method, options.url, response)
  t.same(violations, [], `${options.method} ${options.url} → ${response.statusCode} conforms to openapi.yaml`)
  return response
}
