/**
 * npm run sdk:pack: the typed client as a package anyone can install, written to
 * dist/todo-contract-client-<version>.tgz (its path is the last line printed).
 * - Compiled from src/client (and the types generated from openapi.yaml it imports) with
 *   tsconfig.sdk.json: ES modules and .d.ts, nothing else of the service.
 * - Its own package.json: name todo-contract-client, the contract's info.version as version,
 *   openapi-fetch (the range the service uses) as its only dependency.
 * test/e2e/sdk-package.test.ts installs the tarball into an empty project and uses it.
 */
import '../src/node-version.js'
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'

const ROOT = path.resolve(import.meta.dirname, '..')
const OUT = path.join(ROOT, 'dist/sdk')
const service = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>, engines: { node: string } }
const contract = parse(readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8')) as { info: { title: string, version: string } }

rmSync(OUT, { recursive: true, force: true })
execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.sdk.json')], { cwd: ROOT, stdio: 'inherit' })

const manifest = {
  name: 'todo-contract-client',
  version: contract.info.version,
  description: `Typed client for the ${contract.info.title} (openapi-fetch over types generated from its OpenAPI contract)`,
  license: 'MIT',
  type: 'module',
  exports: { '.': { types: './client/index.d.ts', default: './client/index.js' } },
  main: './client/index.js',
  types: './client/index.d.ts',
  files: ['client', 'generated', 'README.md'],
  sideEffects: false,
  engines: { node: service.engines.node },
  dependencies: { 'openapi-fetch': service.dependencies['openapi-fetch'] }
}
writeFileSync(path.join(OUT, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
writeFileSync(path.join(OUT, 'README.md'), `# todo-contract-client ${contract.info.version}

The typed client of the ${contract.info.title}, generated from its OpenAPI contract (version
${contract.info.version}). Runs wherever \`fetch\` does (Node.js ${service.engines.node}, browsers).

\`\`\`ts
import { createTodoClient, etagOf } from 'todo-contract-client'

const api = createTodoClient({ baseUrl: 'https://todo.example.com', token: () => session.accessToken })
const { data, error } = await api.POST('/api/{user_id}/tasks', { params: { path: { user_id: 'me' } }, body: { title: 'Buy milk' } })
\`\`\`

Also: \`syncAll\`, \`runBatch\`, \`streamEvents\` / \`subscribe\` (live events), \`verifyWebhook\`,
\`exportAccount\` / \`importAccount\` / \`deleteCurrentUser\`, and a type for every schema.
`)
const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', path.join(ROOT, 'dist')], { cwd: OUT, encoding: 'utf8' })) as Array<{ filename: string }>
process.stdout.write(`${path.join(ROOT, 'dist', packed[0]?.filename ?? '')}\n`)
