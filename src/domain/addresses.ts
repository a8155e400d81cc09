/**
 * Which IP addresses a webhook may be delivered to (API.md, Webhooks: "public addresses
 * only"). The ranges are ipaddr.js's (a maintained table of the IANA special-purpose
 * registries, already in the tree under fastify's proxy-addr): an address is public when it
 * is in none of them. IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it
 * maps. Pure.
 */
import ipaddr from 'ipaddr.js'

/** Ranges never reachable even where private targets are allowed. */
const NEVER = new Set(['multicast', 'broadcast'])

/** The IANA range an address is in ('unicast' for an ordinary public one), or 'invalid'. */
export function addressRange (address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid'
  const parsed = ipaddr.process(address)
  const range = parsed.range()
  // Outside 2000::/3 no IPv6 address is global unicast, whatever ipaddr.js leaves unnamed.
  if (range === 'unicast' && parsed instanceof ipaddr.IPv6 && !parsed.match(ipaddr.IPv6.parse('2000::'), 3)) return 'reserved'
  return range
}

/**
 * Why the address is refused, or null when it is allowed: public unicast only, or with
 * `allowPrivate` anything but multicast and broadcast (loopback and private included).
 */
export function refusedAddress (address: string, allowPrivate: boolean): string | null {
  const range = addressRange(address)
  if (range === 'invalid') return `${address} is not an IP address`
  if (range === 'unicast') return null
  if (allowPrivate && !NEVER.has(range)) return null
  return `${address} is not a public address (${describeRange(range)})`
}

const NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local, cloud metadata included',
  uniqueLocal: 'unique-local, cloud metadata included',
  carrierGradeNat: 'shared address space (CGNAT)',
  multicast: 'multicast',
  broadcast: 'broadcast'
}

function describeRange (range: string): string {
  return NAMES[range] ?? `special-purpose: ${range}`
}
