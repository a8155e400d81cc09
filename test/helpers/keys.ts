/**
 * Asymmetric keys for token tests, made fresh per run (nothing secret is committed), and a
 * JWKS endpoint served on 127.0.0.1 the way identity providers serve theirs.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSigner } from 'fast-jwt'
import type { Test } from 'tap'

export type KeyKind = 'RS256' | 'ES256' | 'EdDSA'

export interface KeyPair { alg: KeyKind, kid: string, privatePem: string, publicPem: string, publicKey: KeyObject }

export function keyPair (alg: KeyKind, kid = `${alg}-${Math.random().toString(36).slice(2, 8)}`): KeyPair {
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
  return {
    alg,
    kid,
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKey: pair.publicKey
  }
}

export function signWith (key: KeyPair, claims: Record<string, unknown>, options: { kid?: boolean } = {}): string {
  const now = Math.floor(Date.now() / 1000)
  return createSigner({ key: key.privatePem, algorithm: key.alg, ...(options.kid === false ? {} : { kid: key.kid }) })({ iat: now, exp: now + 600, ...claims })
}

export interface JwksServer { url: string, base: string, setKeys: (keys: KeyPair[]) => void, requests: () => number }

/** Serves `{ keys: [...] }` at `path` (Better Auth: /api/auth/jwks) on a random loopback port. */
export async function serveJwks (t: Test, keys: KeyPair[], path = '/.well-known/jwks.json'): Promise<JwksServer> {
  let current = keys
  let count = 0
  const server: Server = createServer((request, response) => {
    count++
    if (request.url !== path) { response.writeHead(404).end(); return }
    const body = { keys: current.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })) }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url: base + path, base, setKeys: (next) => { current = next }, requests: () => count }
}
