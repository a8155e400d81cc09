/** Per-user rate limiting (API.md: RATE_LIMIT_PER_MINUTE, 429 with Retry-After). */
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { newUser } from '../helpers/factories.js'

t.test('rate limiting', async (t) => {
  t.test('answers 429 with Retry-After once a user has used up the minute, others unaffected', async (t) => {
    const app = await buildTestApp(t, { env: { RATE_LIMIT_PER_MINUTE: '3' } })
    const greedy = newUser()
    for (let i = 0; i < 3; i++) {
      const ok = await inject(t, app, { method: 'GET', url: '/api/me', headers: greedy.headers })
      t.equal(ok.statusCode, 200)
      t.equal(ok.headers['ratelimit-limit'], '3')
    }
    const limited = await inject(t, app, { method: 'GET', url: '/api/me/tasks', headers: greedy.headers })
    t.equal(limited.statusCode, 429)
    t.equal(limited.json().type, 'urn:todo-contract:problem:rate-limited')
    t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After in seconds')
    t.equal(limited.headers['ratelimit-remaining'], '0')
    const other = await inject(t, app, { method: 'GET', url: '/api/me', headers: newUser().headers })
    t.equal(other.statusCode, 200, 'another user has a limit of their own')
    const health = await inject(t, app, { method: 'GET', url: '/health' })
    t.equal(health.statusCode, 200, 'operations routes are not limited')
  })

  t.test('failed authentications are limited per client address: 429 past the limit, other addresses and valid tokens unaffected', async (t) => {
    const app = await buildTestApp(t, { env: { RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '5' } })
    const attempt = async (headers: Record<string, string>, remoteAddress: string): Promise<{ statusCode: number, headers: Record<string, unknown> }> =>
      await app.inject({ method: 'GET', url: '/api/me/tasks', headers, remoteAddress })
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) statuses.push((await attempt(i % 2 === 0 ? { authorization: 'Bearer not-a-token' } : {}, '203.0.113.7')).statusCode)
    t.same(statuses, [401, 401, 401, 401, 401, 429, 429, 429], 'bad and missing tokens alike: the sixth is 429')
    const limited = await attempt({ authorization: 'Bearer not-a-token' }, '203.0.113.7')
    t.ok(Number(limited.headers['retry-after']) > 0, 'with Retry-After')
    t.equal((await attempt({ authorization: 'Bearer not-a-token' }, '203.0.113.8')).statusCode, 401, 'another address has its own count')
    t.equal((await attempt(newUser().headers, '203.0.113.7')).statusCode, 200, 'a valid token from the limited address still passes')
  })

  t.test('RATE_LIMIT_PER_MINUTE=0 turns it off', async (t) => {
    const app = await buildTestApp(t, { env: { RATE_LIMIT_PER_MINUTE: '0' } })
    const user = newUser()
    for (let i = 0; i < 5; i++) t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: user.headers })).statusCode, 200)
  })
})

t.test('with RATE_LIMIT_REDIS_URL, processes share one limit', async (t) => {
  const env = { RATE_LIMIT_PER_MINUTE: '4', RATE_LIMIT_REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' }
  const first = await buildTestApp(t, { env })
  const second = await buildTestApp(t, { env })
  const user = newUser()
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) {
    const app = i % 2 === 0 ? first : second
    statuses.push((await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })).statusCode)
  }
  t.same(statuses, [200, 200, 200, 200, 429, 429], 'the fifth request is refused, whichever process gets it')
})

t.test('an unreachable Redis lets requests through', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_REDIS_URL: 'redis://127.0.0.1:1' } })
  const user = newUser()
  for (let i = 0; i < 3; i++) t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers: user.headers })).statusCode, 200)
})
