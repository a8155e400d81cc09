/**
 * Building the app logs no warning and emits no process warning: a warning at every start
 * teaches people to ignore warnings. (It used to be fastify-openapi-glue's "ContentTypeParser
 * for 'application/problem+json' not found"; see RESPONSE_ONLY_MEDIA_TYPES.) The process as a
 * whole is checked in test/e2e/startup-output.test.ts.
 */
import { Writable } from 'node:stream'
import t from 'tap'
import { RESPONSE_ONLY_MEDIA_TYPES } from '../../src/plugins/body-parsers.js'
import { buildTestApp } from '../helpers/build-app.js'
import { bearer, newUserId, tokenFor } from '../helpers/tokens.js'

t.test('building the app warns about nothing', async (t) => {
  const records: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line !== '') records.push(JSON.parse(line) as { level: number, msg: string })
      callback()
    }
  })
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })

  const app = await buildTestApp(t, { logger: { level: 'trace', stream } })
  // process.emitWarning delivers on the next tick.
  await new Promise((resolve) => setImmediate(resolve))
  const logged = records.splice(0)
  app.log.warn('probe')
  t.same(records.map((r) => r.msg), ['probe'], 'the capture sees warnings')

  t.same(logged.filter((r) => r.level >= 40).map((r) => r.msg), [], 'no warn, error or fatal record')
  t.same(warnings.map((w) => `${w.name}: ${w.message}`), [], 'no process warning')
})

t.test('a body sent as a response-only media type is still 415, as any type without a parser', async (t) => {
  const app = await buildTestApp(t)
  const headers = bearer(tokenFor(newUserId()))
  const send = async (type: string): Promise<{ status: number, body: unknown }> => {
    const response = await app.inject({ method: 'POST', url: '/api/me/categories', headers: { ...headers, 'content-type': type }, payload: '{"name":"x"}' })
    return { status: response.statusCode, body: response.json() }
  }
  const unparsed = await send('text/plain')
  for (const type of RESPONSE_ONLY_MEDIA_TYPES) {
    const refused = await send(type)
    t.equal(refused.status, 415, type)
    t.same(refused.body, { ...(unparsed.body as object), instance: (refused.body as { instance: string }).instance }, 'the same problem')
  }
})
