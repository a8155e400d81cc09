/** Users with tokens, and tasks and categories created through the API. */
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { inject } from './contract.js'
import { bearer, newUserId, tokenFor } from './tokens.js'

export interface TestUser { id: string, headers: Record<string, string> }

export function newUser (label?: string): TestUser {
  const id = newUserId(label)
  return { id, headers: bearer(tokenFor(id)) }
}

export async function createTask (t: Test, app: FastifyInstance, user: TestUser, body: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await inject(t, app, { method: 'POST', url: '/api/me/tasks', headers: user.headers, payload: { title: 'A task', ...body } })
  t.equal(response.statusCode, 201, 'task created')
  return response.json()
}

export async function createCategory (t: Test, app: FastifyInstance, user: TestUser, name = `Category ${Math.random().toString(36).slice(2, 8)}`): Promise<Record<string, any>> {
  const response = await inject(t, app, { method: 'POST', url: '/api/me/categories', headers: user.headers, payload: { name } })
  t.equal(response.statusCode, 201, 'category created')
  return response.json()
}
