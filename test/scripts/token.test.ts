/** npm run token: mints tokens the service accepts. */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { createVerifier } from 'fast-jwt'
import t from 'tap'
import { TEST_SECRET } from '../helpers/tokens.js'

const ROOT = path.resolve(import.meta.dirname, '../..')

function mint (args: string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', JWT_SECRET: TEST_SECRET, DATABASE_URL: 'postgres://x/y', ...env },
    encoding: 'utf8'
  }).trim()
}

t.test('npm run token', async (t) => {
  t.test('signs sub, email and name with JWT_SECRET, valid for --ttl', async (t) => {
    const token = mint(['alice', '--email', 'a@example.com', '--name', 'Alice', '--ttl', '2h'])
    const claims = createVerifier({ key: TEST_SECRET })(token) as Record<string, number | string>
    t.match(claims, { sub: 'alice', email: 'a@example.com', name: 'Alice' })
    t.ok(Math.abs((claims.exp as number) - (Date.now() / 1000 + 7200)) < 60)
  })

  t.test('adds iss and aud when the service enforces them', async (t) => {
    const token = mint(['bob'], { JWT_ISSUER: 'https://idp', JWT_AUDIENCE: 'todo' })
    t.match(createVerifier({ key: TEST_SECRET })(token), { iss: 'https://idp', aud: 'todo' })
  })

  t.test('refuses to mint for a public-key configuration', async (t) => {
    t.throws(() => mint(['carol'], { JWT_SECRET: '', JWT_JWKS_URL: 'https://idp/jwks' }))
  })
})
