/**
 * The contract's own consistency: every example in openapi.yaml validates against the schema
 * it illustrates, every operation has an id, a summary and a tag, and the generated types
 * are in step (checked separately by `npm run generate:check`).
 */
import t from 'tap'
import { dereferencedContract, listOperations, loadContract } from '../../src/contract/index.js'
import { createAjv } from '../../src/contract/validators.js'

const ajv = createAjv({ useDefaults: false })
const document = dereferencedContract()

interface Found { where: string[], value: unknown }

/** Every example: schema `examples`, media-type `example`/`examples`, parameter `example`. */
function collectExamples (node: unknown, where: string[], found: Found[]): Found[] {
  if (node === null || typeof node !== 'object') return found
  if (Array.isArray(node)) {
    node.forEach((item, i) => collectExamples(item, [...where, String(i)], found))
    return found
  }
  const record = node as Record<string, unknown>
  if (record.schema !== undefined && typeof record.schema === 'object') {
    if ('example' in record) found.push({ where: [...where, 'schema'], value: record.example })
    if (record.examples !== undefined && typeof record.examples === 'object') {
      for (const example of Object.values(record.examples as Record<string, { value: unknown }>)) {
        found.push({ where: [...where, 'schema'], value: example.value })
      }
    }
  }
  if (Array.isArray(record.examples) && ('type' in record || 'allOf' in record || 'properties' in record)) {
    record.examples.forEach((value) => found.push({ where, value }))
  }
  for (const [key, value] of Object.entries(record)) {
    if (key !== 'examples' && key !== 'example') collectExamples(value, [...where, key], found)
  }
  return found
}

t.test('every example validates against its schema', async (t) => {
  // Examples are found where they are written (once each), and checked against the schema
  // at the same place in the dereferenced contract, where every $ref is resolved.
  const examples = collectExamples(loadContract(), [], [])
  t.ok(examples.length > 40, `found ${examples.length} examples`)
  for (const { where, value } of examples) {
    const schema = where.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document) as object
    const validate = ajv.compile(schema)
    t.ok(validate(value), `#/${where.join('/')}: ${validate.errors === null || validate.errors === undefined ? 'valid' : ajv.errorsText(validate.errors)}`)
  }
})

t.test('every operation has a unique operationId, a summary, a description and a tag', async (t) => {
  const operations = listOperations(document)
  const ids = operations.map((o) => o.operationId)
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  for (const { operationId, operation } of operations) {
    const op = operation as unknown as { summary?: string, description?: string, tags?: string[] }
    t.ok(op.summary !== undefined && op.description !== undefined && (op.tags?.length ?? 0) > 0, operationId)
  }
})

t.test('every problem type in the error catalogue is in the Problem schema (or ConfirmationProblem\'s one)', async (t) => {
  const { problemKinds, PROBLEM_TYPE_PREFIX } = await import('../../src/errors.js')
  const schemas = document.components.schemas as Record<string, { properties: { type: { enum?: string[], const?: string } } }>
  const declared = [...(schemas.Problem?.properties.type.enum ?? []), schemas.ConfirmationProblem?.properties.type.const as string]
  t.same(declared.sort(), Object.keys(problemKinds).map((k) => PROBLEM_TYPE_PREFIX + k).sort())
})

t.test('every success and error body of every operation has an example', async (t) => {
  for (const { operationId, operation } of listOperations(document)) {
    for (const [status, response] of Object.entries(operation.responses as Record<string, { content?: Record<string, { example?: unknown, examples?: unknown, schema?: { examples?: unknown[], type?: string } }> }>)) {
      for (const [mediaType, media] of Object.entries(response.content ?? {})) {
        // The contract routes return the contract itself: nothing to illustrate.
        if (!mediaType.endsWith('json') || operationId.startsWith('getContract')) continue
        const has = media.example !== undefined || media.examples !== undefined || (media.schema?.examples?.length ?? 0) > 0
        t.ok(has, `${operationId} ${status} ${mediaType}`)
      }
    }
  }
})
