/** The README's configuration table lists every variable config.ts reads, with its default. */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { envVariables } from '../../src/config.js'

t.test('README documents every environment variable with its default', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  for (const [name, spec] of Object.entries(envVariables)) {
    const fallback = 'default' in spec ? `\`${String(spec.default)}\`` : '—'
    t.ok(readme.includes(`| \`${name}\` | ${fallback} |`), name)
  }
})
