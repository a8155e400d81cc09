/**
 * Fails when src/generated/openapi.ts differs from a fresh openapi-typescript run over
 * openapi.yaml, i.e. when the contract changed and `npm run generate` was not run (or the
 * generated file was edited by hand).
 */
import '../src/node-version.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const committed = 'src/generated/openapi.ts'
const dir = mkdtempSync(path.join(tmpdir(), 'generated-'))
try {
  const fresh = path.join(dir, 'openapi.ts')
  execFileSync(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', 'openapi.yaml', '--default-non-nullable', 'false', '-o', fresh], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
    process.stderr.write(`${committed} is out of date with openapi.yaml: run \`npm run generate\` and commit the result.\n`)
    process.exit(1)
  }
  process.stdout.write(`${committed} matches openapi.yaml\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
