/** The Node.js version check: which versions package.json's engines.node admits, and the sentence that refuses the others. */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { describeNodeRange, supportedNodeRange, unsupportedNodeMessage } from '../../src/node-version.js'

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }
const RANGE = manifest.engines.node

t.test('reads the range from package.json engines.node', async (t) => {
  t.equal(supportedNodeRange(), RANGE)
})

t.test('names the supported lines in words', async (t) => {
  t.equal(describeNodeRange(RANGE), '20.19+, 22.13+, 24 and 26')
  t.equal(describeNodeRange('^22.0.0'), '22')
  t.equal(describeNodeRange('^20.19.1 || ^24.0.0'), '20.19.1+ and 24')
  t.equal(describeNodeRange('>=20.19'), '20.19+')
})

t.test('admits every release of the lines CI runs on, from their floors', async (t) => {
  for (const version of ['20.19.0', '20.20.2', '22.13.0', '22.23.3', '24.0.0', '24.21.0', '26.0.0', '26.12.1']) {
    t.equal(unsupportedNodeMessage(version, RANGE), undefined, version)
  }
})

t.test('refuses older releases, odd (never LTS) lines and lines CI does not run on yet', async (t) => {
  t.equal(unsupportedNodeMessage('18.20.4', RANGE), 'todo-contract supports Node.js 20.19+, 22.13+, 24 and 26; this is Node.js 18.20.4.')
  for (const version of ['16.20.2', '18.20.8', '20.0.0', '20.18.3', '21.7.3', '22.0.0', '22.12.0', '23.11.1', '25.2.1', '26.0.0-rc.1', '27.0.0', '28.0.0']) {
    t.equal(unsupportedNodeMessage(version, RANGE), `todo-contract supports Node.js 20.19+, 22.13+, 24 and 26; this is Node.js ${version}.`, version)
  }
})

t.test('README and docs/runtimes.md state the same lines', async (t) => {
  const lines = `Node.js ${describeNodeRange(RANGE)}`
  t.ok(readFileSync(new URL('../../README.md', import.meta.url), 'utf8').includes(`**${lines}**`), `README: **${lines}**`)
  t.ok(readFileSync(new URL('../../docs/runtimes.md', import.meta.url), 'utf8').includes(`**${lines}**`), `docs/runtimes.md: **${lines}**`)
})
