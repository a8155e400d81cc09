/**
 * Every route test goes through `inject`: app.inject plus a tap assertion that the response
 * conforms to openapi.yaml (src/contract/conformance.ts), so drift fails fast.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { contractViolations } from '../../src/contract/conformance.js'

export { contractViolations }

export async function inject (t: Test, app: FastifyInstance, options: InjectOptions & { method: string, url: string }): Promise<LightMyRequestResponse> {
  const response = await app.inject(options)
  const violations = contractViolations(options.method, options.url, { status: response.statusCode, headers: response.headers, body: response.body })
  t.same(violations, [], `${options.method} ${options.url} → ${response.statusCode} conforms to openapi.yaml`)
  return response
}
