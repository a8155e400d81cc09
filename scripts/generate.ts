/**
 * npm run generate [-- --check]
 *
 * Everything in src/generated/ comes from openapi.yaml, here and nowhere else:
 * - openapi.ts: openapi-typescript's types as a client sees them (members with a default
 *   are optional to send); the SDK and the response types use these.
 * - openapi-validated.ts: the same schemas as a handler sees a request once the contract's
 *   validator has applied the defaults (openapi-typescript's --default-non-nullable).
 * - operations.ts: per operation, its method, path, whether it needs a bearer token (its
 *   `security`), whether a handler serves it (`x-no-fastify-config` marks the ones the docs
 *   plugin serves) and its query parameters' defaults.
 * `--check` regenerates into a temporary folder and fails when anything committed differs
 * (the contract changed without `npm run generate`, or a generated file was edited by hand).
 */
import '../src/node-version.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { dereferencedContract, listOperations } from '../src/contract/index.js'

const ROOT = path.resolve(import.meta.dirname, '..')
const TARGET = path.join(ROOT, 'src/generated')
const FILES = ['openapi.ts', 'openapi-validated.ts', 'operations.ts']

function typescriptTypes (outFile: string, defaultsRequired: boolean): void {
  execFileSync(process.execPath, [
    path.join(ROOT, 'node_modules/openapi-typescript/bin/cli.js'), path.join(ROOT, 'openapi.yaml'),
    '--default-non-nullable', String(defaultsRequired), '-o', outFile
  ], { stdio: ['ignore', 'ignore', 'inherit'] })
}

function operationIndex (): string {
  const document = dereferencedContract()
  const globalSecurity = (document.security ?? []) as unknown[]
  const entries = listOperations(document).map(({ operationId, method, path: route, operation }) => {
    const security = operation.security ?? globalSecurity
    const queryDefaults: Record<string, unknown> = {}
    for (const parameter of (operation.parameters ?? []) as Array<{ in: string, name: string, schema?: { default?: unknown } }>) {
      if (parameter.in === 'query' && parameter.schema?.default !== undefined) queryDefaults[parameter.name] = parameter.schema.default
    }
    const entry = {
      method,
      path: route,
      authenticated: security.length > 0,
      handled: operation['x-no-fastify-config'] !== true,
      queryDefaults
    }
    return `  ${operationId}: ${JSON.stringify(entry)}`
  })
  return [
    '/**',
    ' * This file was generated from openapi.yaml by scripts/generate.ts (`npm run generate`).',
    ' * Do not make direct changes to the file.',
    ' */',
    '',
    'export const operationIndex = {',
    entries.join(',\n'),
    '} as const',
    ''
  ].join('\n')
}

function generateInto (dir: string): void {
  typescriptTypes(path.join(dir, 'openapi.ts'), false)
  typescriptTypes(path.join(dir, 'openapi-validated.ts'), true)
  writeFileSync(path.join(dir, 'operations.ts'), operationIndex())
}

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } })
if (values.check !== true) {
  generateInto(TARGET)
  process.stdout.write(`generated ${FILES.map((file) => `src/generated/${file}`).join(', ')}\n`)
} else {
  const fresh = mkdtempSync(path.join(tmpdir(), 'generated-'))
  try {
    generateInto(fresh)
    const stale = FILES.filter((file) => {
      try {
        return readFileSync(path.join(fresh, file), 'utf8') !== readFileSync(path.join(TARGET, file), 'utf8')
      } catch {
        return true
      }
    })
    if (stale.length > 0) {
      process.stderr.write(`${stale.map((file) => `src/generated/${file}`).join(', ')} out of date with openapi.yaml: run \`npm run generate\` and commit the result.\n`)
      process.exit(1)
    }
    process.stdout.write(`src/generated matches openapi.yaml (${FILES.join(', ')})\n`)
  } finally {
    rmSync(fresh, { recursive: true, force: true })
  }
}
