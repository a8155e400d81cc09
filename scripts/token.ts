/**
 * npm run token -- <user-id> [--email e] [--name n] [--ttl 1h]
 * Prints a bearer token signed with JWT_SECRET, or with the local-use secret in DATA_DIR
 * that the service generates on the embedded database. For local use and tests only: in
 * production tokens come from the identity provider.
 */
import '../src/node-version.js'
import { parseArgs } from 'node:util'
import { createSigner } from 'fast-jwt'
import { resolveJwtKey } from '../src/bootstrap.js'
import { loadConfig } from '../src/config.js'

const USAGE = 'usage: npm run token -- <user-id> [--email e] [--name n] [--ttl 1h]'

function parseTtl (text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text)
  if (match === null) throw new Error(`--ttl ${text}: use a number with s, m, h or d (e.g. 1h)`)
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd']
  return Number(match[1]) * unit
}

async function main (): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, ttl: { type: 'string', default: '1h' } }
  })
  const [sub] = positionals
  if (sub === undefined || positionals.length > 1) throw new Error(USAGE)
  const config = loadConfig(process.env)
  const { key } = await resolveJwtKey(config)
  if (key.kind !== 'secret') throw new Error('tokens can only be minted for a shared secret (JWT_SECRET or the local secret); your identity provider issues the others')
  const secret = key.secret
  const sign = createSigner({
    key: secret,
    algorithm: (config.jwt.algorithms[0] ?? 'HS256') as 'HS256',
    expiresIn: parseTtl(values.ttl) * 1000,
    ...(config.jwt.issuer === undefined ? {} : { iss: config.jwt.issuer }),
    ...(config.jwt.audience === undefined ? {} : { aud: config.jwt.audience.length === 1 ? config.jwt.audience[0] : config.jwt.audience })
  })
  const claims: Record<string, string> = { sub }
  if (values.email !== undefined) claims.email = values.email
  if (values.name !== undefined) claims.name = values.name
  process.stdout.write(sign(claims) + '\n')
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
