import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

const SECRET = 's'.repeat(32)
const PEM = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()

t.test('loadConfig', async (t) => {
  t.test('applies defaults', async (t) => {
    const config = loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: 'postgres://h/db' })
    t.match(config, {
      env: 'development',
      server: { host: '127.0.0.1', port: 3000 },
      database: { url: 'postgres://h/db', poolMax: 10, migrateOnStart: true, rowLevelSecurity: true },
      jwt: { key: { kind: 'secret' }, algorithms: ['HS256', 'HS384', 'HS512'], clockToleranceSeconds: 30 },
      rateLimit: { perMinute: 1200 }
    })
    t.ok(Object.isFrozen(config) && Object.isFrozen(config.jwt))
  })

  t.test('RLS_ENABLED=false turns row-level security off', async (t) => {
    t.equal(loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: 'postgres://h/db', RLS_ENABLED: 'false' }).database.rowLevelSecurity, false)
    t.throws(() => loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: 'postgres://h/db', RLS_ENABLED: 'maybe' }), /RLS_ENABLED/)
  })

  t.test('reports every bad variable together, one line each', async (t) => {
    const error = t.throws(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', JWT_SECRET: SECRET, DATABASE_URL: 'mysql://x' })) as ConfigError
    t.ok(error instanceof ConfigError)
    t.equal(error.problems.length, 3)
    t.match(error.problems.join('\n'), /PORT[\s\S]*LOG_LEVEL[\s\S]*DATABASE_URL/)
  })

  t.test('needs exactly one key source', async (t) => {
    t.throws(() => loadConfig({ JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://idp/jwks', DATABASE_URL: 'postgres://h/db' }), /exactly one/)
    t.throws(() => loadConfig({ DATABASE_URL: 'postgres://h/db' }), /set one of/)
  })

  t.test('allows no key only on the embedded database outside production', async (t) => {
    t.equal(loadConfig({}).jwt.key.kind, 'local')
    t.throws(() => loadConfig({ NODE_ENV: 'production' }), /DATABASE_URL is required/)
  })

  t.test('refuses an unreadable PEM', async (t) => {
    t.throws(() => loadConfig({ JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nnope\\n-----END PUBLIC KEY-----', DATABASE_URL: 'postgres://h/db' }), /not a readable PEM/)
  })

  t.test('pins algorithms to the key type', async (t) => {
    t.throws(() => loadConfig({ JWT_PUBLIC_KEY: PEM, JWT_ALGORITHMS: 'HS256', DATABASE_URL: 'postgres://h/db' }), /HS256 cannot be used/)
    t.throws(() => loadConfig({ JWT_SECRET: SECRET, JWT_ALGORITHMS: 'none', DATABASE_URL: 'postgres://h/db' }), /none cannot be used/)
    t.same(loadConfig({ JWT_JWKS_URL: 'https://idp/jwks', DATABASE_URL: 'postgres://h/db', JWT_ALGORITHMS: 'EdDSA' }).jwt.algorithms, ['EdDSA'])
  })

  t.test('treats empty variables as unset', async (t) => {
    t.equal(loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: 'postgres://h/db', PORT: '' }).server.port, 3000)
  })

  t.test('refuses a short secret', async (t) => {
    t.throws(() => loadConfig({ JWT_SECRET: 'short', DATABASE_URL: 'postgres://h/db' }), /JWT_SECRET/)
  })
})
