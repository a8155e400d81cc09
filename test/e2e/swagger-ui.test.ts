/**
 * Swagger UI in a real browser (Debian's Chromium, driven by playwright-core): open /docs,
 * authorize with a minted token, try createTask, listTasks and syncChanges, and see the 201
 * and 200 responses rendered. The screenshot is kept in test-artifacts/ (gitignored).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import t from 'tap'
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js'
import { sharedUrl } from '../helpers/database.js'
import { ROOT, startServer } from '../helpers/server.js'
import { newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

async function tryOperation (page: Page, operationId: string, userId: string, tag = 'Tasks'): Promise<string> {
  const block = page.locator(`#operations-${tag}-${operationId}`)
  await block.locator('.opblock-summary').first().click()
  // /docs opens with "Try it out" already on (tryItOutEnabled), so the fields are editable.
  await block.locator('input[placeholder="user_id"]').fill(userId)
  await block.locator('.execute').click()
  const status = block.locator('.live-responses-table .response .response-col_status').first()
  await status.waitFor({ timeout: 15_000 })
  return (await status.innerText()).trim()
}

t.test('Swagger UI at /docs', { skip: skipWithoutChromium() }, async (t) => {
  const server = await startServer(t, { DATABASE_URL: sharedUrl(), JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test' })
  const browser = await launchChromium(t)
  const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } })
  const errors: string[] = []
  page.on('pageerror', (error) => { errors.push(error.message) })

  await page.goto(`${server.baseUrl}/docs`)
  await page.locator('.information-container .title').waitFor()
  t.match(await page.locator('.information-container .title').innerText(), /Todo Tasks API/)

  const userId = newUserId('browser')
  await page.locator('.auth-wrapper .authorize').click()
  await page.locator('.modal-ux input[type=text]').fill(tokenFor(userId))
  await page.locator('.modal-ux .auth-btn-wrapper .authorize').click()
  await page.locator('.modal-ux .auth-btn-wrapper .btn-done').click()

  t.equal(await tryOperation(page, 'createTask', 'me'), '201', 'createTask: 201 rendered')
  t.equal(await tryOperation(page, 'listTasks', 'me'), '200', 'listTasks: 200 rendered')
  const listed = await page.locator('#operations-Tasks-listTasks .live-responses-table .response-col_description pre').first().innerText()
  t.match(listed, /"title": "Buy milk"/, 'the created task is in the rendered list')
  t.equal(await tryOperation(page, 'syncChanges', 'me', 'Sync'), '200', 'syncChanges: 200 rendered')
  const synced = await page.locator('#operations-Sync-syncChanges .live-responses-table .response-col_description pre').first().innerText()
  t.match(synced, /"next_token": "/, 'a full sync, with its token')
  t.match(synced, /"title": "Buy milk"/, 'holding the created task')
  t.same(errors, [], 'no script errors on the page')

  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true })
  await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'swagger-ui.png'), fullPage: true })
})
