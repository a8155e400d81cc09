/** LOG_FORMAT and the choice between JSON and human-readable logs (the process: test/e2e/startup-output.test.ts). */
import t from 'tap'
import { chooseLogFormat, loadConfig } from '../../src/config.js'

const BASE = { JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://h/db' }

t.test('LOG_FORMAT is auto unless set to json or pretty', async (t) => {
  t.equal(loadConfig(BASE).log.format, 'auto')
  t.equal(loadConfig({ ...BASE, LOG_FORMAT: 'json' }).log.format, 'json')
  t.equal(loadConfig({ ...BASE, LOG_FORMAT: 'pretty' }).log.format, 'pretty')
  t.throws(() => loadConfig({ ...BASE, LOG_FORMAT: 'colourful' }), /LOG_FORMAT/)
})

t.test('auto: pretty for a terminal, JSON for anything else; an explicit format wins', async (t) => {
  t.equal(chooseLogFormat('auto', true), 'pretty')
  t.equal(chooseLogFormat('auto', false), 'json')
  t.equal(chooseLogFormat('json', true), 'json')
  t.equal(chooseLogFormat('pretty', false), 'pretty')
})
