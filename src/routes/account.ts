/**
 * The account as a whole (API.md part two, "Account"): exportAccount, importAccount and
 * deleteCurrentUser.
 * - The export is streamed: one REPEATABLE READ, READ ONLY transaction (one consistent
 *   snapshot, however long the client takes) read in keyset pages of PAGE rows, each page
 *   written before the next is read, so the process holds one page whatever the account's
 *   size. Items are made by the representation functions every route uses. The transaction
 *   ends when the document does, or as soon as the client goes away.
 * - The import checks the whole document first (domain/account.ts), then writes it in one
 *   transaction, in bounded multi-row statements: categories, tasks level by level (a
 *   parent before its children, as the tree's trigger requires), completions, webhooks.
 */
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { atomically, readSnapshot } from '../database/transactions.js'
import { EXPORT_FORMAT, exportFileName, MAX_REPORTED, planImport, toExportedCompletion } from '../domain/account.js'
import { toCategory, toUser } from '../domain/representations.js'
import { toTask } from '../domain/tasks.js'
import { isTimeZone } from '../domain/time-zones.js'
import { newSecret, normalizeEventTypes, toWebhook } from '../domain/webhooks.js'
import { ApiProblem, type FieldError } from '../errors.js'
import * as account from '../repositories/account.js'
import * as events from '../repositories/events.js'
import * as users from '../repositories/users.js'
import * as webhooks from '../repositories/webhooks.js'
import type { Handlers } from './types.js'

/** Rows read, and written, per statement. */
const PAGE = 1000
/** How long the statements of one account deletion may take (a large account writes an event per task it erases). */
const ERASE_TIMEOUT_MS = 300_000

// The auth hook created the row; only a concurrent account deletion could remove it.
const gone = (): ApiProblem => new ApiProblem('not-found', 'No such user.')

/** A JSON array's items, page by page: each page is one chunk of the document. */
async function * items<R extends { id: string }> (read: (after: string | undefined) => Promise<R[]>, represent: (row: R) => unknown): AsyncGenerator<string> {
  let after: string | undefined
  let separator = ''
  for (;;) {
    const rows = await read(after)
    let chunk = ''
    for (const row of rows) {
      chunk += separator + JSON.stringify(represent(row))
      separator = ','
    }
    if (chunk !== '') yield chunk
    const last = rows[rows.length - 1]
    if (rows.length < PAGE || last === undefined) return
    after = last.id
  }
}

export const accountHandlers: Handlers<'exportAccount' | 'importAccount' | 'deleteCurrentUser'> = {
  async exportAccount (request, reply): Promise<FastifyReply> {
    const userId = request.user.id
    const snapshot = await readSnapshot(request.db)
    let head: Awaited<ReturnType<typeof account.header>>
    try {
      head = await account.header(snapshot.db, userId)
    } catch (error) {
      await snapshot.end()
      throw error
    }
    if (head === undefined) {
      await snapshot.end()
      throw gone()
    }
    const { user, now: exportedAt } = head
    const db = snapshot.db
    let started = false
    async function * document (): AsyncGenerator<string> {
      started = true
      try {
        yield `{"format":${JSON.stringify(EXPORT_FORMAT)},"exported_at":${JSON.stringify(exportedAt)},"user":${JSON.stringify(toUser(user))},"categories":[`
        yield * items(async (after) => await account.categoriesAfter(db, userId, after, PAGE), toCategory)
        yield '],"tasks":['
        yield * items(async (after) => await account.tasksAfter(db, userId, after, PAGE), toTask)
        yield '],"completions":['
        yield * items(async (after) => await account.completionsAfter(db, userId, after, PAGE), toExportedCompletion)
        yield `],"webhooks":${JSON.stringify((await webhooks.list(db, userId)).map(toWebhook))}}`
      } finally {
        await snapshot.end()
      }
    }
    // One chunk (a page) buffered ahead of the socket at most: the stream pulls the next page
    // only as the client reads. When the client goes away Fastify destroys the stream, which
    // ends the generator (its `finally`) once its current read returns.
    const body = Readable.from(document(), { highWaterMark: 1 })
    body.once('close', () => { if (!started) snapshot.end().catch(() => {}) })
    return await reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${exportFileName(exportedAt)}"`)
      .send(body)
  },

  async importAccount (request, reply) {
    const document = request.body
    const userId = request.user.id
    const plan = planImport(document, isTimeZone)
    if (plan.invalid.length > 0) {
      throw new ApiProblem('validation-failed', 'The document holds values this service cannot take.', { errors: plan.invalid.slice(0, MAX_REPORTED) })
    }
    if (plan.unprocessable.length > 0) {
      throw new ApiProblem('unprocessable', 'The document cannot be imported: its parts do not hold together.', { errors: plan.unprocessable.slice(0, MAX_REPORTED) })
    }
    // Saved webhooks' targets are checked as createWebhook checks them (400 naming the URL).
    const refused: FieldError[] = []
    for (const [index, webhook] of document.webhooks.entries()) {
      const reason = await request.server.checkWebhookTarget(webhook.url)
      if (reason !== null) refused.push({ pointer: `/webhooks/${index}/url`, detail: reason })
    }
    if (refused.length > 0) throw new ApiProblem('validation-failed', 'A webhook URL is not allowed.', { errors: refused })

    const imported = document.webhooks.map((webhook) => ({
      id: randomUUID(),
      url: webhook.url,
      events: normalizeEventTypes(webhook.events),
      description: webhook.description,
      secret: newSecret()
    }))
    await atomically(request.db, async (trx) => {
      // The user's change counter first: a concurrent import or write of this user comes
      // wholly before this one (and is seen by the check below) or after it.
      await events.lockChangeCounter(trx, userId)
      if (await account.hasTasksOrCategories(trx, userId)) {
        throw new ApiProblem('conflict', 'This account has tasks or categories; import into an empty account.')
      }
      if (await account.countWebhooks(trx, userId) + imported.length > webhooks.MAX_WEBHOOKS_PER_USER) {
        throw new ApiProblem('unprocessable', `A user may have at most ${webhooks.MAX_WEBHOOKS_PER_USER} webhooks; this account's and the document's together would be more.`, {
          errors: [{ pointer: '/webhooks', detail: `holds ${imported.length}, and the account has some already` }]
        })
      }
      // The zone first: the tasks' effective dues are computed from it as they are written.
      if (await users.updateSettings(trx, userId, { time_zone: document.user.time_zone }) === undefined) throw gone()
      for (let i = 0; i < document.categories.length; i += PAGE) {
        await account.insertCategories(trx, userId, document.categories.slice(i, i + PAGE))
      }
      for (const level of plan.levels) {
        for (let i = 0; i < level.length; i += PAGE) {
          await account.insertTasks(trx, userId, level.slice(i, i + PAGE).map((index) => plan.tasks[index] as account.ImportedTask))
        }
      }
      for (let i = 0; i < document.completions.length; i += PAGE) {
        await account.insertCompletions(trx, userId, document.completions.slice(i, i + PAGE))
      }
      await account.insertWebhooks(trx, userId, imported)
    })
    reply.code(201)
    return {
      tasks: document.tasks.length,
      categories: document.categories.length,
      completions: document.completions.length,
      webhooks: imported.map(({ id, secret }) => ({ id, secret }))
    }
  },

  async deleteCurrentUser (request, reply) {
    const userId = request.user.id
    const confirmation = request.headers['confirm-delete']
    if (confirmation !== userId) {
      throw new ApiProblem('precondition-required', 'Send Confirm-Delete with your user id to delete your account.', {
        errors: [{ header: 'Confirm-Delete', detail: confirmation === undefined || confirmation === '' ? 'is required' : 'is not your user id' }]
      })
    }
    await account.erase(request.db, userId, ERASE_TIMEOUT_MS)
    // This process at once (the caller's next request may come before the notification);
    // every process, this one included, when the deletion's notification arrives.
    request.server.forgetUser(userId)
    await request.server.forgetRateLimit(userId)
    return await reply.code(204).send()
  }
}
