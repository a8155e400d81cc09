/**
 * Where a webhook may be delivered (API.md, Webhooks): an `https` URL (`http` too where
 * private targets are allowed) whose host resolves only to allowed addresses
 * (domain/addresses.ts). Checked when a URL is saved and again before every attempt; the
 * attempt then connects to the addresses checked here (webhook-sender.ts pins them), never
 * to a second lookup's answer, so a name cannot resolve to a public address for the check
 * and to a private one for the connection (DNS rebinding).
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { refusedAddress } from '../domain/addresses.js'

export interface ResolvedAddress {
  address: string
  family: number
}

/** All the addresses a host name resolves to (dns.lookup with `all`; tests pass their own). */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>

export const systemResolver: ResolveHost = async (hostname) => await dnsLookup(hostname, { all: true, verbatim: true })

export interface TargetPolicy {
  allowPrivate: boolean
  resolve: ResolveHost
}

export type TargetCheck =
  | { ok: true, url: URL, addresses: ResolvedAddress[] }
  /** `error` is what a delivery attempt records; `reason` is for people. */
  | { ok: false, error: 'invalid-url' | 'dns' | 'refused-address', reason: string }

export async function checkTarget (text: string, policy: TargetPolicy): Promise<TargetCheck> {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { ok: false, error: 'invalid-url', reason: 'must be an absolute URL' }
  }
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:')) {
    return { ok: false, error: 'invalid-url', reason: policy.allowPrivate ? 'must be an http or https URL' : 'must be an https URL' }
  }
  if (url.username !== '' || url.password !== '') return { ok: false, error: 'invalid-url', reason: 'must not hold credentials' }
  // The WHATWG parser has already turned decimal, octal and hex IPv4 spellings
  // (https://2130706433/, https://0x7f.1/) into dotted quads; IPv6 literals keep brackets.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  let addresses: ResolvedAddress[]
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }]
  } else {
    try {
      addresses = await policy.resolve(host)
    } catch {
      return { ok: false, error: 'dns', reason: `the host ${host} does not resolve` }
    }
    if (addresses.length === 0) return { ok: false, error: 'dns', reason: `the host ${host} does not resolve` }
  }
  // Every address, not just the first: a client may connect to any of them.
  for (const { address } of addresses) {
    const refused = refusedAddress(address, policy.allowPrivate)
    if (refused !== null) return { ok: false, error: 'refused-address', reason: `resolves to ${refused}` }
  }
  return { ok: true, url, addresses }
}
