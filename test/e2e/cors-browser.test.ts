/**
 * A browser app on another origin (CORS_ORIGINS), in Debian's Chromium: a page served from its
 * own local port loads the SDK (bundled with esbuild, as a web app's build would) and, with a
 * bearer token, creates a task, updates it with the ETag it read (If-Match: a preflighted
 * request), lists it, and reads the exposed headers. The same page from a port that is not
 * listed is refused by the browser, and its preflighted writes never reach the service.
 */
import { build } from 'esbuild'
import { createServer, type Server } from 'node:http'
import path from 'node:path'
import t, { type Test } from 'tap'
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { ROOT } from '../helpers/server.js'
import { bearer, newUserId, tokenFor } from '../helpers/tokens.js'

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>A web app</title></head><body>
<script type="module">
import { createTodoClient, etagOf } from '/sdk.js'
// Runs in the page: every answer's status and the headers a script can read.
window.journey = async (baseUrl, token) => {
  const api = createTodoClient({ baseUrl, token })
  const me = { user_id: 'me' }
  try {
    const created = await api.POST('/api/{user_id}/tasks', { params: { path: me }, body: { title: 'Written from a browser' } })
    const etag = etagOf(created.response)
    const updated = await api.PATCH('/api/{user_id}/tasks/{task_id}', { params: { path: { ...me, task_id: created.data.id }, header: { 'If-Match': etag } }, body: { priority: 'high' } })
    const stale = await api.PATCH('/api/{user_id}/tasks/{task_id}', { params: { path: { ...me, task_id: created.data.id }, header: { 'If-Match': etag } }, body: { priority: 'low' } })
    const listed = await api.GET('/api/{user_id}/tasks', { params: { path: me, query: { limit: 10 } } })
    return {
      created: created.response.status,
      etag,
      location: created.response.headers.get('location'),
      requestId: created.response.headers.get('x-request-id'),
      rateLimitRemaining: created.response.headers.get('ratelimit-remaining'),
      updated: updated.response.status,
      updatedEtag: etagOf(updated.response),
      stale: stale.response.status,
      staleProblem: stale.error?.type,
      listed: listed.response.status,
      items: listed.data.items.map((task) => ({ title: task.title, priority: task.priority }))
    }
  } catch (error) {
    return { failed: error.name + ': ' + error.message }
  }
}
</script></body></html>`

/** A static web app: the page and the SDK bundle, on a port of its own. */
async function serveWebApp (t: Test, sdk: string): Promise<string> {
  const server: Server = createServer((request, response) => {
    if (request.url === '/sdk.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk)
    else if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
    else response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

t.test('a web app on another origin', { skip: skipWithoutChromium() }, async (t) => {
  const bundle = await build({ entryPoints: [path.join(ROOT, 'src/client/index.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent' })
  const sdk = bundle.outputFiles[0]!.text
  const allowedOrigin = await serveWebApp(t, sdk)
  const otherOrigin = await serveWebApp(t, sdk)

  const app = await buildTestApp(t, { env: { CORS_ORIGINS: allowedOrigin } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const apiUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  const browser = await launchChromium(t)

  async function runJourney (origin: string, userId: string): Promise<Record<string, unknown>> {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => { errors.push(error.message) })
    await page.goto(origin)
    await page.waitForFunction(() => typeof (globalThis as unknown as { journey?: unknown }).journey === 'function')
    const result = await page.evaluate(async ([url, token]) => await (globalThis as unknown as { journey: (url: string, token: string) => Promise<Record<string, unknown>> }).journey(url, token), [apiUrl, tokenFor(userId)] as const)
    t.same(errors, [], 'no script errors on the page')
    await page.close()
    return result
  }

  t.test('from a listed origin: the SDK works and reads ETag, Location, X-Request-Id, RateLimit-*', async (t) => {
    const result = await runJourney(allowedOrigin, newUserId('web'))
    t.equal(result.failed, undefined, 'no request failed in the browser')
    t.equal(result.created, 201)
    t.match(result.etag, /^"\d+"$/, 'the ETag is readable')
    t.match(result.location, /^\/api\/[^/]+\/tasks\/[0-9a-f-]{36}$/, 'Location is readable')
    t.ok(result.requestId, 'X-Request-Id is readable')
    t.match(result.rateLimitRemaining, /^\d+$/, 'RateLimit-Remaining is readable')
    t.equal(result.updated, 200, 'an If-Match update passed its preflight')
    t.not(result.updatedEtag, result.etag, 'a new version')
    t.equal(result.stale, 412, 'the stale ETag is refused, and the page reads why')
    t.equal(result.staleProblem, 'urn:todo-contract:problem:precondition-failed')
    t.equal(result.listed, 200)
    t.same(result.items, [{ title: 'Written from a browser', priority: 'high' }])
  })

  t.test('from an origin not listed: the browser refuses, and nothing is written', async (t) => {
    const userId = newUserId('foreign')
    const result = await runJourney(otherOrigin, userId)
    t.match(result.failed, /^TypeError: Failed to fetch/, 'fetch fails as a network error: the page learns nothing')
    const stored = await inject(t, app, { method: 'GET', url: '/api/me/tasks', headers: bearer(tokenFor(userId)) })
    t.same(stored.json().items, [], 'the POST never left the browser: its preflight was refused')
  })
})
