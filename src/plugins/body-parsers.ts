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

const bodyParsers: FastifyPluginAsync = async (app) => {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'string' }, (request, body, done) => {
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
}

export default fp(bodyParsers, { name: 'body-parsers' })
