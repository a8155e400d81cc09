/**
 * Debian's Chromium for the browser tests, driven by playwright-core (never a downloaded
 * browser): whether to skip (not installed; CI installs it, so there a missing one fails) and
 * a headless launch closed when the test ends.
 */
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import type { Test } from 'tap'

export const CHROMIUM = '/usr/bin/chromium'

/** A tap `skip` option: the reason when Chromium is missing outside CI, else false. */
export const skipWithoutChromium = (): string | false =>
  !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `${CHROMIUM} is not installed (apt-get install chromium)` : false

export async function launchChromium (t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a sandboxless container; no background traffic to hosts this machine cannot reach.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(async () => { await browser.close() })
  return browser
}
