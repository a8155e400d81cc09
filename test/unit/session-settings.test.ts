import t from 'tap'
import { explainStartupRefusal, missingSettings } from '../../src/database/session-settings.js'

const superuser = { role: 'postgres', statementTimeoutMs: 0, timeZone: 'Etc/UTC' }
const production = { role: 'todo_app', statementTimeoutMs: 10_000, timeZone: 'UTC' }

t.test('missingSettings', async (t) => {
  t.equal(missingSettings(production, { role: 'todo_app', statementTimeoutMs: 10_000 }), undefined, 'a login with its settings on the role needs no startup parameter')
  t.equal(missingSettings(superuser, { role: 'todo_app', statementTimeoutMs: 10_000 }), '-c role=todo_app -c statement_timeout=10000', 'a superuser login switches role and sets the timeout')
  t.equal(missingSettings(production, { role: 'todo_app', statementTimeoutMs: 5_000 }), '-c statement_timeout=5000', 'a configured timeout other than the role\'s is sent')
  t.equal(missingSettings(production, { role: 'todo_app', statementTimeoutMs: 0 }), '-c statement_timeout=0', 'no timeout asked of a login that has one')
  t.equal(missingSettings(production, { role: 'todo_app' }), undefined, 'no timeout given: the login\'s own')
  t.equal(missingSettings(superuser, {}), undefined, 'nothing asked, UTC already: nothing sent')
  t.equal(missingSettings({ ...superuser, timeZone: 'Europe/Paris' }, {}), '-c TimeZone=UTC', 'another time zone is set to UTC')
  t.equal(missingSettings({ ...production, timeZone: 'Etc/UTC' }, { role: 'todo_app', statementTimeoutMs: 10_000 }), undefined, 'Etc/UTC is UTC')
})

t.test('explainStartupRefusal', async (t) => {
  const refusal = Object.assign(new Error('unsupported startup parameter: options'), { code: '08P01' })
  const explained = explainStartupRefusal(refusal, '-c role=todo_app') as Error
  t.match(explained.message, /unsupported startup parameter: options: .*-c role=todo_app.*ALTER ROLE/)
  t.equal(explained.cause, refusal, 'the refusal is kept as the cause')
  t.equal(explainStartupRefusal(refusal, undefined), refusal, 'nothing was sent: not about settings')
  const other = new Error('connect ECONNREFUSED')
  t.equal(explainStartupRefusal(other, '-c role=todo_app'), other, 'another error is left as it is')
})
