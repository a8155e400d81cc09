/**
 * Webhooks, the resource (API.md part two, "Events", Webhooks): create (the secret shown
 * once), list, get, update, delete, the delivery log; 10 per user; target checks at save.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { inject } from '../helpers/contract.js'
import { newUser } from '../helpers/factories.js'
import { PUBLIC_ADDRESS, resolveTo } from '../helpers/webhooks.js'

const HOOK_URL = 'https://hooks.example.com/todo'

t.test('webhooks', async (t) => {
  // Names resolve to a public address (the tests have no DNS); nothing connects to it.
  const app = await buildTestApp(t, { webhookResolve: resolveTo(PUBLIC_ADDRESS) })
  const create = async (t: Parameters<typeof inject>[0], user: ReturnType<typeof newUser>, payload: Record<string, unknown>): Promise<ReturnType<typeof app.inject>> =>
    await inject(t, app, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload })

  t.test('createWebhook answers 201 with the secret, once; Location names it', async (t) => {
    const user = newUser()
    const response = await create(t, user, { url: HOOK_URL, events: ['task.created', 'task.completed', 'task.created'] })
    t.equal(response.statusCode, 201)
    const body = response.json()
    t.match(body, { url: HOOK_URL, events: ['task.created', 'task.completed'], description: null, enabled: true, disabled_reason: null })
    t.match(body.secret, /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'whsec_ and base64')
    t.ok(Buffer.from(body.secret.slice(6), 'base64').length >= 24, '24 random bytes or more')
    t.equal(response.headers.location, `/api/${encodeURIComponent(user.id)}/webhooks/${body.id as string}`)
    const got = await inject(t, app, { method: 'GET', url: `/api/me/webhooks/${body.id as string}`, headers: user.headers })
    t.equal(got.statusCode, 200)
    t.notOk('secret' in got.json(), 'getWebhook shows no secret')
    t.notMatch(got.body, body.secret)
    const list = await inject(t, app, { method: 'GET', url: '/api/me/webhooks', headers: user.headers })
    t.same(list.json().items.map((w: { id: string }) => w.id), [body.id])
    t.notMatch(list.body, /whsec_/, 'listWebhooks shows no secret')
    const other = await create(t, user, { url: HOOK_URL, events: ['*', 'task.created'], description: 'All' })
    t.match(other.json(), { events: ['*'], description: 'All' }, '* stands for every type')
    t.not(other.json().secret, body.secret, 'each webhook its own secret')
  })

  t.test('an 11th webhook is 422', async (t) => {
    const user = newUser()
    for (let i = 0; i < 10; i++) t.equal((await create(t, user, { url: `${HOOK_URL}/${i}`, events: ['*'] })).statusCode, 201)
    const eleventh = await create(t, user, { url: HOOK_URL, events: ['*'] })
    t.equal(eleventh.statusCode, 422)
    t.equal(eleventh.json().type, 'urn:todo-contract:problem:unprocessable')
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me/webhooks', headers: user.headers })).json().items.length, 10)
    t.equal((await create(t, newUser(), { url: HOOK_URL, events: ['*'] })).statusCode, 201, 'the limit is per user')
  })

  t.test('creations racing for the last places never make more than 10', async (t) => {
    const user = newUser()
    const statuses = await Promise.all(Array.from({ length: 14 }, async (_, i) => (await create(t, user, { url: `${HOOK_URL}/${i}`, events: ['*'] })).statusCode))
    t.same(statuses.filter((status) => status === 201).length, 10)
    t.same(statuses.filter((status) => status === 422).length, 4)
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me/webhooks', headers: user.headers })).json().items.length, 10)
  })

  t.test('bad bodies are 400', async (t) => {
    const user = newUser()
    for (const payload of [
      { url: HOOK_URL },
      { url: HOOK_URL, events: [] },
      { url: HOOK_URL, events: ['task.exploded'] },
      { url: 'not a url', events: ['*'] },
      { url: HOOK_URL, events: ['*'], secret: 'whsec_AAAA' },
      { url: HOOK_URL, events: ['*'], description: 'x'.repeat(201) }
    ]) {
      const response = await create(t, user, payload)
      t.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 80))
    }
  })

  t.test('target checks at save: https only, public addresses only, 400 naming /url', async (t) => {
    const user = newUser()
    const refused = [
      'http://hooks.example.com/todo',
      'ftp://hooks.example.com/todo',
      'https://user:pass@hooks.example.com/todo',
      'https://127.0.0.1/', 'https://127.1.2.3/', 'https://localhost.localdomain.invalid/',
      'https://2130706433/', 'https://0x7f.0.0.1/', 'https://0177.0.0.1/', 'https://0x7f000001/',
      'https://10.0.0.1/', 'https://172.16.5.4/', 'https://192.168.1.1/',
      'https://169.254.169.254/latest/meta-data/', 'https://169.254.1.1/',
      'https://100.64.0.1/', 'https://0.0.0.0/', 'https://224.0.0.1/', 'https://255.255.255.255/',
      'https://[::1]/', 'https://[::]/', 'https://[fe80::1]/', 'https://[fc00::1]/', 'https://[fd00:ec2::254]/',
      'https://[::ffff:127.0.0.1]/', 'https://[::ffff:7f00:1]/', 'https://[::ffff:10.0.0.1]/', 'https://[::ffff:169.254.169.254]/'
    ]
    const local = await buildTestApp(t, {
      webhookResolve: async (host) => {
        if (host === 'localhost.localdomain.invalid') return [{ address: '127.0.0.1', family: 4 }]
        return [{ address: PUBLIC_ADDRESS, family: 4 }]
      }
    })
    for (const url of refused) {
      const response = await inject(t, local, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url, events: ['*'] } })
      t.equal(response.statusCode, 400, `${url} refused`)
      t.same(response.json().errors?.map((e: { pointer?: string }) => e.pointer), ['/url'], `${url}: names /url`)
    }
    const mixed = await buildTestApp(t, { webhookResolve: async () => [{ address: PUBLIC_ADDRESS, family: 4 }, { address: '10.1.2.3', family: 4 }] })
    const response = await inject(t, mixed, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url: HOOK_URL, events: ['*'] } })
    t.equal(response.statusCode, 400, 'a name with one private address among public ones is refused')
    const unresolved = await buildTestApp(t, { webhookResolve: async () => { throw new Error('ENOTFOUND') } })
    t.equal((await inject(t, unresolved, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url: HOOK_URL, events: ['*'] } })).statusCode, 400, 'a name that does not resolve')
    for (const url of ['https://93.184.215.14/hook', 'https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook', HOOK_URL]) {
      t.equal((await create(t, user, { url, events: ['*'] })).statusCode, 201, `${url} accepted`)
    }
    const patched = await inject(t, app, { method: 'PATCH', url: `/api/me/webhooks/${(await create(t, newUser(), { url: HOOK_URL, events: ['*'] })).json().id as string}`, headers: user.headers, payload: { url: 'https://10.0.0.1/' } })
    t.equal(patched.statusCode, 404, 'another user\'s webhook: 404 before anything else')
  })

  t.test('WEBHOOK_ALLOW_PRIVATE_TARGETS=true allows http and private addresses', async (t) => {
    const dev = await buildTestApp(t, { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, webhookResolve: resolveTo('127.0.0.1') })
    const user = newUser()
    for (const url of ['http://localhost:8080/hook', 'http://127.0.0.1:9/hook', 'https://192.168.1.1/', 'http://[::1]:9/']) {
      const response = await inject(t, dev, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url, events: ['*'] } })
      t.equal(response.statusCode, 201, `${url} accepted`)
    }
    const multicast = await inject(t, dev, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url: 'http://224.0.0.1/', events: ['*'] } })
    t.equal(multicast.statusCode, 400, 'never multicast')
  })

  t.test('updateWebhook merges; disabling leaves disabled_reason null; 404 for unknown ids', async (t) => {
    const user = newUser()
    const hook = (await create(t, user, { url: HOOK_URL, events: ['*'], description: 'Old' })).json()
    const url = `/api/me/webhooks/${hook.id as string}`
    const renamed = await inject(t, app, { method: 'PATCH', url, headers: { ...user.headers, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ description: null, events: ['category.created'] }) })
    t.equal(renamed.statusCode, 200)
    t.match(renamed.json(), { id: hook.id, url: HOOK_URL, description: null, events: ['category.created'], enabled: true })
    const disabled = await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { enabled: false } })
    t.match(disabled.json(), { enabled: false, disabled_reason: null })
    const moved = await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { url: 'https://other.example.com/x', enabled: true } })
    t.match(moved.json(), { enabled: true, url: 'https://other.example.com/x' })
    t.equal((await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { secret: 'whsec_x' } })).statusCode, 400, 'the secret cannot be set')
    t.equal((await inject(t, app, { method: 'PATCH', url, headers: user.headers, payload: { enabled: 'yes' } })).statusCode, 400)
    t.equal((await inject(t, app, { method: 'PATCH', url: `/api/me/webhooks/${randomUUID()}`, headers: user.headers, payload: { enabled: false } })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me/webhooks/not-a-uuid', headers: user.headers })).statusCode, 400)
  })

  t.test('deleteWebhook answers 204, then 404; its deliveries are 404 too', async (t) => {
    const user = newUser()
    const hook = (await create(t, user, { url: HOOK_URL, events: ['*'] })).json()
    const url = `/api/me/webhooks/${hook.id as string}`
    const deliveries = await inject(t, app, { method: 'GET', url: `${url}/deliveries`, headers: user.headers })
    t.equal(deliveries.statusCode, 200)
    t.same(deliveries.json(), { items: [] })
    t.equal((await inject(t, app, { method: 'DELETE', url, headers: user.headers })).statusCode, 204)
    t.equal((await inject(t, app, { method: 'DELETE', url, headers: user.headers })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'GET', url, headers: user.headers })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'GET', url: `${url}/deliveries`, headers: user.headers })).statusCode, 404)
  })

  t.test('another user\'s webhook ids are 404 on every operation', async (t) => {
    const owner = newUser()
    const other = newUser()
    const hook = (await create(t, owner, { url: HOOK_URL, events: ['*'] })).json()
    const url = `/api/me/webhooks/${hook.id as string}`
    t.equal((await inject(t, app, { method: 'GET', url, headers: other.headers })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'PATCH', url, headers: other.headers, payload: { enabled: false } })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'DELETE', url, headers: other.headers })).statusCode, 404)
    t.equal((await inject(t, app, { method: 'GET', url: `${url}/deliveries`, headers: other.headers })).statusCode, 404)
    t.same((await inject(t, app, { method: 'GET', url: '/api/me/webhooks', headers: other.headers })).json(), { items: [] })
    t.match((await inject(t, app, { method: 'GET', url, headers: owner.headers })).json(), { enabled: true }, 'unchanged')
  })
})
