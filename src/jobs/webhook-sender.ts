/**
 * One delivery attempt on the wire (API.md, Webhooks): a POST to the checked addresses only
 * (the socket's lookup answers with them: no second DNS query), no redirect followed (node:http
 * never follows one; a 3xx is a failed attempt), no status line within `timeoutMs` →
 * `timeout`; after the status the body is read until it ends, `maxBodyBytes`, or `timeoutMs`
 * since the attempt began, whichever comes first, then the connection is closed. Nothing of
 * the body is kept: the status decides.
 */
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { ResolvedAddress } from './webhook-targets.js'

export interface Attempt {
  url: URL
  addresses: ResolvedAddress[]
  headers: Record<string, string>
  body: string
  /** Aborting ends the attempt at once with error 'aborted' (the service is closing). */
  signal?: AbortSignal
}

export interface AttemptOutcome {
  statusCode: number | null
  /** null when a status arrived. */
  error: 'timeout' | 'connection' | 'aborted' | null
}

export interface SendLimits {
  timeoutMs: number
  maxBodyBytes: number
}

export const DEFAULT_LIMITS: SendLimits = { timeoutMs: 10_000, maxBodyBytes: 64 * 1024 }

/** A lookup that answers with the checked addresses (of the family asked, when one is). */
function pinnedLookup (addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const usable = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses
    const found = usable.length > 0 ? usable : addresses
    if (options.all === true) {
      (callback as unknown as (error: null, addresses: ResolvedAddress[]) => void)(null, found)
    } else {
      const first = found[0] as ResolvedAddress
      callback(null, first.address, first.family)
    }
  }
}

export async function send (attempt: Attempt, limits: SendLimits = DEFAULT_LIMITS): Promise<AttemptOutcome> {
  return await new Promise((resolve) => {
    let status: number | null = null
    let settled = false
    const transport = attempt.url.protocol === 'https:' ? https : http
    const request = transport.request(attempt.url, {
      method: 'POST',
      headers: { ...attempt.headers, 'content-length': String(Buffer.byteLength(attempt.body)) },
      lookup: pinnedLookup(attempt.addresses),
      // A connection of its own, closed after the attempt: nothing pooled outlives the check.
      agent: false
    })
    const finish = (outcome: AttemptOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      attempt.signal?.removeEventListener('abort', onAbort)
      request.destroy()
      resolve(outcome)
    }
    const deadline = setTimeout(() => { finish({ statusCode: status, error: status === null ? 'timeout' : null }) }, limits.timeoutMs)
    const onAbort = (): void => { finish({ statusCode: null, error: 'aborted' }) }
    if (attempt.signal?.aborted === true) { onAbort(); return }
    attempt.signal?.addEventListener('abort', onAbort, { once: true })
    request.on('response', (response) => {
      status = response.statusCode ?? null
      let read = 0
      response.on('data', (chunk: Buffer) => {
        read += chunk.length
        if (read >= limits.maxBodyBytes) finish({ statusCode: status, error: null })
      })
      response.on('end', () => { finish({ statusCode: status, error: null }) })
      response.on('error', () => { finish({ statusCode: status, error: null }) })
    })
    request.on('error', () => { finish({ statusCode: status, error: status === null ? 'connection' : null }) })
    request.end(attempt.body)
  })
}
