/**
 * Request body parsing. Only JSON media types are accepted (anything else is 415): the
 * default parsers are removed and one JSON parser serves application/json and
 * application/merge-patch+json. It uses Fastify's own secure parser (which refuses
 * `__proto__` and `constructor.prototype` keys) and then refuses strings that PostgreSQL
 * or other clients cannot store faithfully: NUL characters and lone UTF-16 surrogates.
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { ApiProblem } from '../errors.js'
import { findUnsafeStrings } from '../domain/safe-text.js'

export const JSON_MEDIA_TYPES = ['application/json', 'application/merge-patch+json']

/**
 * Media types the contract uses for responses only. fastify-openapi-glue warns at start-up
 * ("ContentTypeParser for '…' not found") for every media type of the contract without a
 * body parser (index.js checkParserValidators), and collects responses' media types along
 * with request bodies' (lib/Parser.v3.js parseContent, called by parseResponses too). So
 * each gets a parser that refuses it, with the same 415 Fastify gives a type it has no
 * parser for (problems.ts, FST_ERR_CTP_INVALID_MEDIA_TYPE): nothing changes for clients.
 */
export const RESPONSE_ONLY_MEDIA_TYPES = ['application/problem+json', 'text/event-stream']

const bodyParsers: FastifyPluginAsync = async (app) => {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'string' }, (request, body, done) => {
    // An empty body under a JSON content type is no body, as generated clients send it for an
    // operation whose body is optional (orval's fetch client sets the header whatever it
    // sends); where a body is required, contract-routes' checkBody answers 400 for it.
    if (body === '') { done(null, undefined); return }
    parseJson(request, body as string, (error, value) => {
      if (error !== null) { done(error, undefined); return }
      const unsafe = findUnsafeStrings(value)
      if (unsafe.length > 0) {
        done(new ApiProblem('validation-failed', 'Strings may not hold NUL characters or lone UTF-16 surrogates.', {
          errors: unsafe.map((pointer) => ({ pointer, detail: 'holds a NUL character or a lone surrogate' }))
        }), undefined)
        return
      }
      done(null, value)
    })
  })
  app.addContentTypeParser(RESPONSE_ONLY_MEDIA_TYPES, (request, payload, done) => {
    done(new ApiProblem('unsupported-media-type', 'Send the body as application/json.'), undefined)
  })
}

export default fp(bodyParsers, { name: 'body-parsers' })
