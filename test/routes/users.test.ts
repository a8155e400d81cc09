import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedDb } from '../helpers/database.js'
import { inject } from '../helpers/contract.js'
import { bearer, newUserId, tokenFor } from '../helpers/tokens.js'

t.test('getCurrentUser', async (t) => {
  const app = await buildTestApp(t)

  t.test('creates the user on first sight, with email and name from the token', async (t) => {
    const id = newUserId()
    const response = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(tokenFor(id, { claims: { email: 'ada@example.com', name: 'Ada' } })) })
    t.equal(response.statusCode, 200)
    t.match(response.json(), { id, email: 'ada@example.com', name: 'Ada' })
  })

  t.test('later tokens with other claims update them; tokens without keep them', async (t) => {
    const id = newUserId()
    await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(tokenFor(id, { claims: { email: 'old@example.com' } })) })
    const updated = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(tokenFor(id, { claims: { email: 'new@example.com', name: 'New' } })) })
    t.match(updated.json(), { email: 'new@example.com', name: 'New' })
    const kept = await inject(t, app, { method: 'GET', url: '/api/me', headers: bearer(tokenFor(id)) })
    t.match(kept.json(), { email: 'new@example.com', name: 'New' })
  })

  t.test('concurrent first requests create one user', async (t) => {
    const id = newUserId()
    const responses = await Promise.all(Array.from({ length: 10 }, async () =>
      await app.inject({ method: 'GET', url: '/api/me', headers: bearer(tokenFor(id)) })))
    t.same(responses.map((r) => r.statusCode), Array(10).fill(200))
    const rows = await sharedDb(t).selectFrom('users').select('id').where('id', '=', id).execute()
    t.equal(rows.length, 1)
  })
})
