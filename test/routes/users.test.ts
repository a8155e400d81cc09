import t, { type Test } from 'tap'
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

t.test('updateCurrentUser', async (t) => {
  const app = await buildTestApp(t)
  const patch = async (t: Test, headers: Record<string, string>, payload: unknown, contentType = 'application/merge-patch+json') =>
    await inject(t, app, { method: 'PATCH', url: '/api/me', headers: { ...headers, 'content-type': contentType }, payload: JSON.stringify(payload) })

  t.test('a new user is in UTC; a zone set is kept and answered exactly as sent, links included', async (t) => {
    const headers = bearer(tokenFor(newUserId()))
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers })).json().time_zone, 'UTC', 'the default (API.md)')
    for (const zone of ['Europe/Berlin', 'Asia/Calcutta', 'Etc/UTC', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'UTC']) {
      const response = await patch(t, headers, { time_zone: zone })
      t.equal(response.statusCode, 200, zone)
      t.equal(response.json().time_zone, zone)
      t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers })).json().time_zone, zone, `${zone}, read back`)
    }
    const json = await patch(t, headers, { time_zone: 'Australia/Sydney' }, 'application/json')
    t.equal(json.json().time_zone, 'Australia/Sydney', 'plain JSON is taken as a merge patch too')
  })

  t.test('null clears it; an empty patch changes nothing', async (t) => {
    const headers = bearer(tokenFor(newUserId()))
    await patch(t, headers, { time_zone: 'America/New_York' })
    t.equal((await patch(t, headers, {})).json().time_zone, 'America/New_York')
    t.equal((await patch(t, headers, { time_zone: null })).json().time_zone, 'UTC', 'null: back to the default')
  })

  t.test('an unknown zone, an offset or a malformed name is 400 naming /time_zone, and changes nothing', async (t) => {
    const headers = bearer(tokenFor(newUserId()))
    await patch(t, headers, { time_zone: 'Europe/Paris' })
    for (const zone of ['Mars/Olympus_Mons', 'Europe/Berlinn', '+01:00', 'Europe/', '/Europe', 'Europe//Berlin', 'Europe/Berlin ', '']) {
      const response = await patch(t, headers, { time_zone: zone })
      t.equal(response.statusCode, 400, JSON.stringify(zone))
      t.match(response.json(), { type: 'urn:todo-contract:problem:validation-failed', errors: [{ pointer: '/time_zone' }] })
    }
    for (const body of [{ time_zone: 5 }, { zone: 'Europe/Berlin' }]) {
      const response = await patch(t, headers, body)
      t.equal(response.statusCode, 400, JSON.stringify(body))
    }
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers })).json().time_zone, 'Europe/Paris', 'still the last valid zone')
  })

  t.test('changes only the caller', async (t) => {
    const mine = bearer(tokenFor(newUserId()))
    const theirs = bearer(tokenFor(newUserId()))
    await patch(t, theirs, { time_zone: 'Asia/Tokyo' })
    await patch(t, mine, { time_zone: 'Europe/Lisbon' })
    t.equal((await inject(t, app, { method: 'GET', url: '/api/me', headers: theirs })).json().time_zone, 'Asia/Tokyo')
  })
})
