/**
 * Authentication (API.md, RFC 8725): every way a token can be wrong is a 401 with
 * WWW-Authenticate, checked before anything else about the request.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { createSigner } from 'fast-jwt'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { keyPair, serveJwks, signWith } from '../helpers/keys.js'
import { bearer, newUserId, signRaw, tokenFor } from '../helpers/tokens.js'

const now = (): number => Math.floor(Date.now() / 1000)
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')

t.test('with a shared secret (HS256)', async (t) => {
  const app = await buildTestApp(t, { env: { JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'todo-api' } })
  const good = { iss: 'https://idp.test', aud: 'todo-api' }
  const me = async (t: Test, headers: Record<string, string>, url = '/api/me'): Promise<Awaited<ReturnType<typeof app.inject>>> =>
    await inject(t, app, { method: 'GET', url, headers })

  t.test('accepts a valid token', async (t) => {
    const response = await me(t, bearer(tokenFor(newUserId(), { claims: good })))
    t.equal(response.statusCode, 200)
  })

  t.test('answers 401 without error="invalid_token" when no token is sent', async (t) => {
    const response = await me(t, {})
    t.equal(response.statusCode, 401)
    t.equal(response.headers['www-authenticate'], 'Bearer realm="todo-contract"')
    t.equal(response.json().type, 'urn:todo-contract:problem:unauthorized')
  })

  const rejected: Array<[string, () => string]> = [
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: newUserId(), exp: now() + 600, ...good })}.`],
    ['a wrong secret', () => tokenFor(newUserId(), { secret: 'another-secret-that-is-32-characters!!', claims: good })],
    ['a tampered payload', () => {
      const [header, , signature] = tokenFor(newUserId(), { claims: good }).split('.')
      return `${header as string}.${b64({ sub: 'someone-else', exp: now() + 600, ...good })}.${signature as string}`
    }],
    ['an expired token (beyond the 30 s tolerance)', () => tokenFor(newUserId(), { expiresIn: -60, claims: good })],
    ['a future nbf', () => tokenFor(newUserId(), { notBefore: 120, claims: good })],
    ['a future iat', () => tokenFor(newUserId(), { claims: { ...good, iat: now() + 3600 } })],
    ['a wrong issuer', () => tokenFor(newUserId(), { claims: { ...good, iss: 'https://evil.test' } })],
    ['a wrong audience', () => tokenFor(newUserId(), { claims: { ...good, aud: 'another-api' } })],
    ['no sub', () => tokenFor(undefined, { claims: good })],
    ['an empty sub', () => tokenFor('', { claims: good })],
    ['a sub of 256 characters', () => tokenFor('x'.repeat(256), { claims: good })],
    ['a numeric sub', () => tokenFor(undefined, { claims: { ...good, sub: 42 } })],
    ['a sub holding NUL', () => tokenFor('bad\u0000sub', { claims: good })],
    ['a sub holding a lone surrogate', () => tokenFor('bad\ud800sub', { claims: good })],
    ['no exp', () => signRaw({ sub: newUserId(), iat: now(), ...good })],
    ['a string exp', () => signRaw({ sub: newUserId(), exp: String(now() + 600), ...good })],
    ['a signature that is not HS256 over the input', () => signRaw({ sub: newUserId(), exp: now() + 600, ...good }, 'x'.repeat(40))],
    ['garbage', () => 'not-a-jwt'],
    ['two dots of nothing', () => '..']
  ]
  for (const [name, make] of rejected) {
    t.test(`answers 401 invalid_token for ${name}`, async (t) => {
      const response = await me(t, bearer(make()))
      t.equal(response.statusCode, 401)
      t.equal(response.headers['www-authenticate'], 'Bearer realm="todo-contract", error="invalid_token"')
    })
  }

  t.test('tolerates an exp just passed, within the clock tolerance', async (t) => {
    const response = await me(t, bearer(tokenFor(newUserId(), { expiresIn: -10, claims: good })))
    t.equal(response.statusCode, 200)
  })

  t.test('accepts a sub of 255 characters', async (t) => {
    const response = await me(t, bearer(tokenFor('y'.repeat(254) + newUserId().slice(0, 1), { claims: good })))
    t.equal(response.statusCode, 200)
  })

  t.test('takes tokens from the Authorization header only', async (t) => {
    const token = tokenFor(newUserId(), { claims: good })
    t.equal((await me(t, {}, `/api/me?access_token=${token}`)).statusCode, 401)
    t.equal((await me(t, { cookie: `token=${token}` })).statusCode, 401)
    t.equal((await me(t, { authorization: `Basic ${token}` })).statusCode, 401)
    t.equal((await me(t, { authorization: token })).statusCode, 401)
  })

  t.test('checks the token before anything else about the request', async (t) => {
    const cases = [
      { method: 'POST', url: '/api/someone/categories', payload: 'not json', headers: { 'content-type': 'text/plain' } },
      { method: 'GET', url: '/api/me/tasks/not-a-uuid', headers: {} },
      { method: 'GET', url: '/api/me/tasks?limit=9999', headers: {} }
    ]
    for (const request of cases) {
      const response = await inject(t, app, request)
      t.equal(response.statusCode, 401, `${request.method} ${request.url}`)
    }
  })
})

t.test('with a public key (JWT_PUBLIC_KEY)', async (t) => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    t.test(alg, async (t) => {
      const key = keyPair(alg)
      const app = await buildTestApp(t, { env: { JWT_PUBLIC_KEY: key.publicPem, JWT_SECRET: '' } })
      const ok = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(signWith(key, { sub: newUserId() })) })
      t.equal(ok.statusCode, 200, 'a token signed with the private key passes')
      const other = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(signWith(keyPair(alg), { sub: newUserId() })) })
      t.equal(other.statusCode, 401, 'another key pair is refused')
      // The classic confusion attack: HS256 "signed" with the public key's text as the secret.
      const confused = createSigner({ key: key.publicPem, algorithm: 'HS256' })({ sub: newUserId() })
      const response = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(confused) })
      t.equal(response.statusCode, 401, 'HS256 signed with the public key is refused')
    })
  }
})

t.test('with a JWKS endpoint (JWT_JWKS_URL)', async (t) => {
  t.test('picks the key by kid and follows a key rotation once the cooldown has passed', async (t) => {
    const first = keyPair('RS256', 'key-1')
    const jwks = await serveJwks(t, [first])
    const app = await buildTestApp(t, { env: { JWT_JWKS_URL: jwks.url, JWT_SECRET: '', JWT_JWKS_COOLDOWN_MS: '300' } })
    const call = async (token: string): Promise<number> => (await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(token) })).statusCode

    t.equal(await call(signWith(first, { sub: newUserId() })), 200)
    t.equal(await call(signWith(first, { sub: newUserId() })), 200)
    t.equal(jwks.requests(), 1, 'the key set is fetched once and cached')

    const second = keyPair('RS256', 'key-2')
    jwks.setKeys([first, second])
    await new Promise((resolve) => setTimeout(resolve, 350))
    t.equal(await call(signWith(second, { sub: newUserId() })), 200, 'a new kid is fetched on first sight after the cooldown')

    const stranger = keyPair('RS256', 'key-3')
    t.equal(await call(signWith(stranger, { sub: newUserId() })), 401, 'an unknown kid is refused')
    const fetches = jwks.requests()
    t.equal(await call(signWith(stranger, { sub: newUserId() })), 401)
    t.equal(jwks.requests(), fetches, 'an unknown kid is not fetched again at once')
  })

  t.test('verifies EdDSA tokens from a JWKS served the way Better Auth serves it', async (t) => {
    // Better Auth's JWT plugin: Ed25519 keys at <base>/api/auth/jwks; iss and aud are both the app's base URL.
    const key = keyPair('EdDSA')
    const jwks = await serveJwks(t, [key], '/api/auth/jwks')
    const app = await buildTestApp(t, {
      env: { JWT_JWKS_URL: `${jwks.base}/api/auth/jwks`, JWT_ISSUER: jwks.base, JWT_AUDIENCE: jwks.base, JWT_SECRET: '' }
    })
    const id = newUserId()
    const response = await inject(t, app, {
      method: 'GET', url: '/api/me', headers: bearer(signWith(key, { sub: id, iss: jwks.base, aud: jwks.base, email: 'ba@example.com', name: 'Better' }))
    })
    t.equal(response.statusCode, 200)
    t.match(response.json(), { id, email: 'ba@example.com', name: 'Better' })
    const wrongAudience = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(signWith(key, { sub: id, iss: jwks.base, aud: 'other' })) })
    t.equal(wrongAudience.statusCode, 401)
  })

  t.test('1,000 tokens with made-up kids at once: all 401, with at most 2 fetches of the key set', async (t) => {
    const key = keyPair('RS256', 'the-key')
    const jwks = await serveJwks(t, [key])
    const app = await buildTestApp(t, { env: { JWT_JWKS_URL: jwks.url, JWT_SECRET: '' } })
    const tokens = Array.from({ length: 1000 }, () => signWith({ ...key, kid: randomUUID() }, { sub: newUserId() }))
    const answers = await Promise.all(tokens.map(async (token) => (await app.inject({ method: 'GET', url: '/api/me', headers: bearer(token) })).statusCode))
    t.same([...new Set(answers)], [401], 'every one refused as unauthenticated, none as an outage')
    t.ok(jwks.requests() <= 2, `${jwks.requests()} fetch(es) of the key set`)
    t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: bearer(signWith(key, { sub: newUserId() })) })).statusCode, 200, 'the real key still works')
    t.ok(jwks.requests() <= 2, 'without another fetch')
  })

  t.test('a provider that accepts and never answers: 503 within the timeout', async (t) => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    t.teardown(async () => { silent.closeAllConnections(); await new Promise((resolve) => silent.close(resolve)) })
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks`
    const app = await buildTestApp(t, { env: { JWT_JWKS_URL: url, JWT_SECRET: '', JWT_JWKS_TIMEOUT_MS: '500' } })
    const started = Date.now()
    const response = await app.inject({ method: 'GET', url: '/api/me', headers: bearer(signWith(keyPair('RS256'), { sub: newUserId() })) })
    const elapsed = Date.now() - started
    t.equal(response.statusCode, 503)
    t.ok(elapsed < 3000, `answered after ${elapsed} ms (timeout 500 ms)`)
  })

  t.test('answers 503 when the key set cannot be fetched', async (t) => {
    const app = await buildTestApp(t, { env: { JWT_JWKS_URL: 'http://127.0.0.1:1/jwks', JWT_SECRET: '' } })
    const response = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(signWith(keyPair('RS256'), { sub: newUserId() })) })
    t.equal(response.statusCode, 503)
    t.ok(response.headers['retry-after'])
  })
})

t.test('each refused token is logged with why, at info, and never with the token', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
  const app = await buildTestApp(t, { logger: { level: 'info', stream }, env: { JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'todo-api' } })
  const good = { iss: 'https://idp.test', aud: 'todo-api' }
  const cases: Array<[string, string]> = [
    [tokenFor(newUserId(), { claims: good, expiresIn: -3600 }), 'The token has expired.'],
    [tokenFor(newUserId(), { claims: good, secret: 'another-secret-that-is-at-least-32-characters' }), 'The token signature is invalid.'],
    [tokenFor(newUserId(), { claims: { ...good, iss: 'https://evil.test' } }), 'A token claim (iss, aud) has a value that is not accepted.'],
    [tokenFor(undefined, { claims: good }), 'The token lacks a required claim (exp, sub).'],
    ['not.a.jwt', 'The token is malformed.']
  ]
  for (const [token, reason] of cases) {
    const before = lines.length
    const response = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(token) })
    t.equal(response.statusCode, 401, reason)
    const entries = lines.slice(before).map((line) => JSON.parse(line) as { level: number, msg: string, reason?: string })
    t.same(entries.filter((entry) => entry.msg === 'token rejected').map((entry) => [entry.level, entry.reason]), [[30, reason]], `logged at info: ${reason}`)
    t.notOk(lines.slice(before).some((line) => line.includes(token)), 'the token is in no log line')
  }
})
