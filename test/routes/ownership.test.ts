/**
 * Broken object-level authorization and authentication (OWASP API1/API2), over every
 * operation of the contract: no token and a forged token are 401, another user's path is
 * 403, another user's ids in one's own path are 404 — and the victim's data never changes.
 */
import t from 'tap'
import { listOperations } from '../../src/contract/index.js'
import { buildTestApp } from '../helpers/build-app.js'
import { sharedDb } from '../helpers/database.js'
import { inject } from '../helpers/contract.js'
import { createCategory, createTask, newUser } from '../helpers/factories.js'
import { bearer, tokenFor } from '../helpers/tokens.js'
import { PUBLIC_ADDRESS, resolveTo } from '../helpers/webhooks.js'

interface Example { value: unknown }
const protectedOperations = listOperations().filter((o) => o.path.startsWith('/api/'))

t.test('every /api operation', async (t) => {
  const app = await buildTestApp(t, { webhookResolve: resolveTo(PUBLIC_ADDRESS) })
  const victim = newUser('victim')
  const attacker = newUser('attacker')
  const victimCategory = await createCategory(t, app, victim)
  // Recurring, created completed: it has advanced once and has a completion to protect too.
  const victimTask = await createTask(t, app, victim, { title: 'Private', category_id: victimCategory.id, tags: ['secret'], due_date: '2026-12-01', recurrence_rule: 'FREQ=DAILY', completed: true })
  const attackerCategory = await createCategory(t, app, attacker)
  const attackerTask = await createTask(t, app, attacker, { title: 'Mine' })
  const webhookOf = async (user: typeof victim, description: string): Promise<{ id: string }> =>
    (await inject(t, app, { method: 'POST', url: '/api/me/webhooks', headers: user.headers, payload: { url: 'https://hooks.example.com/private', events: ['*'], description } })).json()
  const victimWebhook = await webhookOf(victim, 'Private')
  const attackerWebhook = await webhookOf(attacker, 'Mine')

  const snapshot = async (): Promise<Record<string, unknown[]>> => ({
    user: await sharedDb(t).selectFrom('users').selectAll().where('id', '=', victim.id).execute(),
    tasks: await sharedDb(t).selectFrom('tasks').selectAll().where('user_id', '=', victim.id).orderBy('id').execute(),
    categories: await sharedDb(t).selectFrom('categories').selectAll().where('user_id', '=', victim.id).orderBy('id').execute(),
    webhooks: await sharedDb(t).selectFrom('webhooks').selectAll().where('user_id', '=', victim.id).orderBy('id').execute(),
    completions: await sharedDb(t).selectFrom('task_completions').selectAll().where('user_id', '=', victim.id).orderBy('id').execute()
  })
  const before = await snapshot()
  t.equal(before.tasks?.length, 1, 'the snapshot sees the victim\'s task (it would compare nothing otherwise)')
  t.equal(before.webhooks?.length, 1, 'and the victim\'s webhook')
  t.equal(before.completions?.length, 1, 'and the victim\'s completion')

  for (const { operationId, method, path, operation } of protectedOperations) {
    const content = operation.requestBody?.content ?? {}
    const [mediaType] = Object.keys(content)
    const examples = mediaType === undefined ? undefined : (content[mediaType] as { examples?: Record<string, Example> }).examples
    // A body the contract itself offers; category ids in it are replaced by the attacker's own.
    const body = examples === undefined ? undefined : JSON.parse(JSON.stringify(Object.values(examples)[0]?.value ?? {}).replace(/0b5a4b84-3c43-4a0c-9d1c-1e2f3a4b5c6d/g, attackerCategory.id as string))
    const hasIds = path.includes('{task_id}') || path.includes('{category_id}') || path.includes('{webhook_id}')
    const url = (userId: string, ids: 'victim' | 'attacker'): string => path
      .replace('{user_id}', encodeURIComponent(userId))
      .replace('{task_id}', (ids === 'victim' ? victimTask : attackerTask).id)
      .replace('{category_id}', (ids === 'victim' ? victimCategory : attackerCategory).id)
      .replace('{webhook_id}', (ids === 'victim' ? victimWebhook : attackerWebhook).id)
    const send = async (headers: Record<string, string>, target: string): Promise<Awaited<ReturnType<typeof app.inject>>> =>
      await inject(t, app, {
        method,
        url: target,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': mediaType as string }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) })
      })

    t.test(operationId, async (t) => {
      const own = url('me', 'attacker')
      t.equal((await send({}, own)).statusCode, 401, 'no token: 401')
      const forged = bearer(tokenFor(victim.id, { secret: 'a-different-secret-of-at-least-32-chars' }))
      t.equal((await send(forged, url(victim.id, 'victim'))).statusCode, 401, 'a token claiming to be the victim, badly signed: 401')
      if (path.includes('{user_id}')) {
        const response = await send(attacker.headers, url(victim.id, 'victim'))
        t.equal(response.statusCode, 403, 'the victim\'s path: 403')
        t.equal(response.json().type, 'urn:todo-contract:problem:forbidden')
      }
      if (hasIds) {
        const response = await send(attacker.headers, url('me', 'victim'))
        t.equal(response.statusCode, 404, 'the victim\'s id in the attacker\'s own path: 404')
        t.notMatch(response.body, /Private|secret/, 'reveals nothing of the victim\'s data')
      }
      t.same(await snapshot(), before, 'the victim\'s data is unchanged')
    })
  }

  t.test('covers every operation under /api', async (t) => {
    t.same(protectedOperations.map((o) => o.operationId).sort(), [
      'clearCompletedTasks', 'createCategory', 'createTask', 'createWebhook', 'deleteCategory', 'deleteCurrentUser', 'deleteTask', 'deleteWebhook', 'exportAccount', 'getCategory', 'getCurrentUser', 'getTask', 'getWebhook',
      'importAccount', 'listCategories', 'listTaskCompletions', 'listTasks', 'listTrash', 'listWebhookDeliveries', 'listWebhooks', 'moveTask', 'purgeTask', 'replaceTask', 'restoreTask', 'runBatch', 'streamEvents', 'syncChanges', 'toggleTaskCompletion',
      'updateCategory', 'updateCurrentUser', 'updateTask', 'updateWebhook'
    ])
  })

  t.test('listing with the victim\'s category id as a filter shows nothing of theirs', async (t) => {
    const response = await inject(t, app, { method: 'GET', url: `/api/me/tasks?category_id=${victimCategory.id as string}`, headers: attacker.headers })
    t.same(response.json().items, [])
  })
})
