/**
 * Safe retries of a create (API.md, `Idempotency-Key`): decorates the request with
 * `withIdempotency(reply, work)`. Without the header, `work` runs on `request.db` and its
 * response is sent. With it, the claim of the key, the lookup, `work` and the stored response
 * commit together in one transaction as the caller; a retry with the same body gets the first
 * response again, byte for byte (`Idempotent-Replayed: true`); the same key with another body
 * is 422; a retry while the first is still running is 409 with Retry-After. A problem thrown
 * by `work` rolls everything back: nothing is stored, and a retry runs `work` again.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { controlled } from '../database/transactions.js'
import type { Database } from '../database/types.js'
import { requestHash } from '../domain/request-hash.js'
import { ApiProblem } from '../errors.js'
import * as idempotency from '../repositories/idempotency.js'

export interface CreatedResponse<Body> {
  status: number
  headers: Record<string, string>
  body: Body
}

type Work<Body> = (db: Kysely<Database>) => Promise<CreatedResponse<Body>>

declare module 'fastify' {
  interface FastifyRequest {
    withIdempotency: <Body>(reply: FastifyReply, work: Work<Body>) => Promise<Body | FastifyReply>
  }
}

async function withIdempotency<Body> (this: FastifyRequest, reply: FastifyReply, work: Work<Body>): Promise<Body | FastifyReply> {
  const key = this.headers['idempotency-key']
  if (typeof key !== 'string') {
    const response = await work(this.db)
    reply.code(response.status).headers(response.headers)
    return response.body
  }
  const userId = this.user.id
  const hash = requestHash(this.body)
  // A controlled transaction: work may set savepoints in it (a batch does).
  const outcome = await controlled(this.db, async (trx) => {
    if (!await idempotency.claim(trx, userId, key)) return { kind: 'in-flight' } as const
    const stored = await idempotency.find(trx, userId, key)
    if (stored !== undefined) return stored.request_hash === hash ? { kind: 'replay', stored } as const : { kind: 'mismatch' } as const
    const response = await work(trx)
    await idempotency.save(trx, userId, key, hash, { ...response, body: JSON.stringify(response.body) })
    return { kind: 'done', response } as const
  })
  switch (outcome.kind) {
    case 'in-flight':
      throw new ApiProblem('idempotency-in-progress', 'A request with this Idempotency-Key is still being processed; retry later.', { headers: { 'retry-after': '1' } })
    case 'mismatch':
      throw new ApiProblem('idempotency-key-reused', 'This Idempotency-Key was used with a different body.', {
        errors: [{ header: 'Idempotency-Key', detail: 'was used with a different body' }]
      })
    case 'replay':
      // The original response, byte for byte, as first sent.
      return await reply.code(outcome.stored.response_status)
        .headers({ ...outcome.stored.response_headers, 'idempotent-replayed': 'true' })
        .type('application/json; charset=utf-8')
        .send(outcome.stored.response_body)
    case 'done':
      reply.code(outcome.response.status).headers(outcome.response.headers)
      return outcome.response.body
  }
}

const idempotencyPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('withIdempotency', withIdempotency)
}

export default fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['database'] })
