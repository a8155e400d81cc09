/**
 * npm run docs:build writes a reference that works offline: opened from disk in Chromium
 * with every request but the file itself refused, it renders the contract's title and its
 * operations, and asked for nothing from another host.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js'
import { ROOT } from '../helpers/server.js'

t.test('the static reference opens offline', { skip: skipWithoutChromium() }, async (t) => {
  const folder = mkdtempSync(path.join(tmpdir(), 'todo-docs-'))
  t.teardown(() => { rmSync(folder, { recursive: true, force: true }) })
  const output = path.join(folder, 'index.html')
  // The package script's command, written elsewhere: the suite leaves dist/ alone.
  const script = (JSON.parse(execFileSync('npm', ['pkg', 'get', 'scripts.docs:build'], { cwd: ROOT, encoding: 'utf8' })) as string).replace('dist/docs/index.html', output)
  execFileSync('npx', script.split(' '), { cwd: ROOT, stdio: 'ignore', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } })

  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const refused: Array<{ url: string, type: string }> = []
  await page.route('**/*', async (route) => {
    const url = route.request().url()
    if (url.startsWith('file:') || url.startsWith('data:')) { await route.continue(); return }
    refused.push({ url, type: route.request().resourceType() })
    await route.abort('internetdisconnected')
  })
  const errors: string[] = []
  page.on('pageerror', (error) => { errors.push(error.message) })
  await page.goto(pathToFileURL(output).href)
  await page.getByRole('heading', { name: /Todo Tasks API/ }).first().waitFor({ timeout: 20_000 })
  // Hydrated, not only prerendered: the inlined script runs, and the menu opens a tag's operations.
  await page.getByText('Tasks', { exact: true }).first().click()
  await page.getByText('Create a task').first().waitFor({ timeout: 20_000 })
  t.same(errors, [], 'no script errors')
  // Redoc's "API docs by Redocly" badge is an image from its CDN: without it the page only
  // lacks that logo. Nothing the page needs to work (scripts, styles, fonts, data) is fetched.
  t.same(refused.filter((request) => request.type !== 'image'), [], 'nothing but an image asked of another host')
})
