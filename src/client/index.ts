/**
 * The typed client SDK: openapi-fetch over the types generated from openapi.yaml.
 *
 *   import { createTodoClient } from 'todo-contract/client'
 *   const api = createTodoClient({ baseUrl: 'https://todo.example.com', token: () => session.jwt })
 *   const { data, error } = await api.POST('/api/{user_id}/tasks', { params: { path: { user_id: 'me' } }, body: { title: 'Buy milk' } })
 *
 * Every path, parameter, body and response is typed from the contract; `error` is the
 * RFC 9457 problem of the failed response. Self-contained: imports nothing else from src/.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch'
import type { components, operations, paths } from '../generated/openapi.js'

export type { components, operations, paths }
export type Task = components['schemas']['Task']
export type TaskCreate = components['schemas']['TaskCreate']
export type TaskPatch = components['schemas']['TaskPatch']
export type TaskPage = components['schemas']['TaskPage']
export type Category = components['schemas']['Category']
export type User = components['schemas']['User']
export type UserPatch = components['schemas']['UserPatch']
export type Reminder = components['schemas']['Reminder']
export type TaskCompletionRecord = components['schemas']['TaskCompletionRecord']
export type TaskCompletionPage = components['schemas']['TaskCompletionPage']
export type TaskMove = components['schemas']['TaskMove']
export type Problem = components['schemas']['Problem']
export type TodoClient = Client<paths>

type Schemas = components['schemas']
type Operation<Op extends Schemas['BatchOperation']['op'], Members> = { op: Op, ref?: string } & Members
/**
 * One operation of a batch, typed by its `op`: the members and the body its single request
 * takes (openapi.yaml, runBatch). The contract itself accepts any element, because a bad one
 * is answered with a 400 result of its own; this type keeps a client from sending one.
 */
export type BatchOperation =
  | Operation<'create_task', { body: Schemas['TaskCreate'] }>
  | Operation<'update_task', { id: string, if_match?: string, body: Schemas['TaskPatch'] }>
  | Operation<'set_completion', { id: string, if_match?: string, body?: Schemas['TaskCompletion'] }>
  | Operation<'move_task', { id: string, if_match?: string, body: Schemas['TaskMove'] }>
  | Operation<'delete_task', { id: string, if_match?: string }>
  | Operation<'restore_task', { id: string }>
  | Operation<'create_category', { body: Schemas['CategoryCreate'] }>
  | Operation<'update_category', { id: string, body: Schemas['CategoryPatch'] }>
  | Operation<'delete_category', { id: string }>
export interface BatchRequest {
  /** All or nothing (default false: each operation on its own). */
  atomic?: boolean
  operations: BatchOperation[]
}
export type BatchResponse = Schemas['BatchResponse']
/** What one operation's single request answered: status, body (resource, problem or null), ETag. */
export type BatchResult = Schemas['BatchResult']

export interface TodoClientOptions {
  /** Where the service is, e.g. https://todo.example.com (no trailing /api). */
  baseUrl: string
  /** The bearer token, or a function returning the current one (called for every request). */
  token: string | (() => string | Promise<string>)
  /** A fetch implementation (default: the global fetch). */
  fetch?: ClientOptions['fetch']
  /** Headers sent with every request. */
  headers?: Record<string, string>
}

export function createTodoClient (options: TodoClientOptions): TodoClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.headers === undefined ? {} : { headers: options.headers })
  })
  const token = options.token
  client.use({
    async onRequest ({ request }) {
      request.headers.set('authorization', `Bearer ${typeof token === 'function' ? await token() : token}`)
      return request
    }
  })
  return client
}

/** The ETag of a response, for a later If-Match or If-None-Match. */
export function etagOf (response: Response): string | undefined {
  return response.headers.get('etag') ?? undefined
}

export type SyncPage = components['schemas']['SyncPage']

/** Everything `syncAll` gathered: the changes of every page merged, and where to continue. */
export interface SyncResult {
  /** Tasks changed since `since` (or all of them), each once, in its latest state. */
  tasks: Task[]
  categories: Category[]
  /** Ids gone for good since `since`, not created again since. */
  deleted: { tasks: string[], categories: string[] }
  /** Pass it as `since` to the next `syncAll`. */
  nextToken: string
}

/** A sync that failed: `status` and the problem (410 `sync-token-expired`: sync again without `since`). */
export class SyncError extends Error {
  constructor (readonly status: number, readonly problem: Problem | undefined) {
    super(problem?.detail ?? `sync failed with status ${status}`)
    this.name = 'SyncError'
  }
}

/**
 * Follows `next_token` from `since` (or from nothing: a full sync) until `has_more` is false,
 * and merges the pages: a later page's state of an entity replaces an earlier one, a
 * deletion removes what an earlier page held, a creation after a deletion cancels it.
 * Throws SyncError when a page fails; on 410 start again without `since`.
 */
export async function syncAll (api: TodoClient, since?: string, options: { limit?: number } = {}): Promise<SyncResult> {
  const tasks = new Map<string, Task>()
  const categories = new Map<string, Category>()
  const deletedTasks = new Set<string>()
  const deletedCategories = new Set<string>()
  let token = since
  for (;;) {
    const query = {
      ...(token === undefined ? {} : { since: token }),
      ...(options.limit === undefined ? {} : { limit: options.limit })
    }
    const { data, error, response } = await api.GET('/api/{user_id}/sync', { params: { path: { user_id: 'me' }, query } })
    if (data === undefined) throw new SyncError(response.status, error as Problem | undefined)
    for (const task of data.tasks) { tasks.set(task.id, task); deletedTasks.delete(task.id) }
    for (const category of data.categories) { categories.set(category.id, category); deletedCategories.delete(category.id) }
    for (const id of data.deleted.tasks) { tasks.delete(id); deletedTasks.add(id) }
    for (const id of data.deleted.categories) { categories.delete(id); deletedCategories.add(id) }
    token = data.next_token
    if (!data.has_more) {
      return {
        tasks: [...tasks.values()],
        categories: [...categories.values()],
        deleted: { tasks: [...deletedTasks], categories: [...deletedCategories] },
        nextToken: token
      }
    }
  }
}

export interface BatchOptions {
  /** The caller's id, or 'me' (the default). */
  userId?: string
  /** Safe retries: the same key and body replay the first response. */
  idempotencyKey?: string
}

/** runBatch with typed operations: `POST /api/{user_id}/batch`; `data` holds one result per operation. */
export async function runBatch (client: TodoClient, body: BatchRequest, { userId = 'me', idempotencyKey }: BatchOptions = {}) {
  return await client.POST('/api/{user_id}/batch', {
    params: { path: { user_id: userId }, header: idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey } },
    body
  })
}

/** Everything of one account, as exportAccount writes it and importAccount takes it. */
export type AccountExport = components['schemas']['AccountExport']
/** What an import stored, and each imported webhook's new secret (shown only here). */
export type ImportResult = components['schemas']['ImportResult']

/**
 * `GET /api/{user_id}/export`: the account's export, as a stream (`data` is the response
 * body's ReadableStream: an account of any size is never held whole unless the caller parses
 * it, e.g. `await new Response(data).json() as AccountExport`). The suggested file name is in
 * `response.headers.get('content-disposition')`.
 */
export async function exportAccount (client: TodoClient, { signal }: { signal?: AbortSignal } = {}) {
  return await client.GET('/api/{user_id}/export', {
    params: { path: { user_id: 'me' } },
    parseAs: 'stream',
    ...(signal === undefined ? {} : { signal })
  })
}

/**
 * `POST /api/{user_id}/import`: an export into the caller's empty account (409 when it has
 * tasks or categories; 413 above the service's IMPORT_MAX_BYTES). `data` counts what was
 * stored and holds the imported webhooks' new secrets; they come back disabled.
 */
export async function importAccount (client: TodoClient, document: AccountExport) {
  return await client.POST('/api/{user_id}/import', { params: { path: { user_id: 'me' } }, body: document })
}

/**
 * `DELETE /api/me`: erases the caller's account and everything in it. `userId` must be the
 * caller's own id (the token's `sub`), sent as `Confirm-Delete`; anything else is 428.
 */
export async function deleteCurrentUser (client: TodoClient, userId: string) {
  return await client.DELETE('/api/me', { params: { header: { 'Confirm-Delete': userId } } })
}

/** What a webhook receives (openapi.yaml, top-level `webhooks`): one of four shapes, told apart by `type`. */
export type TaskEvent = components['schemas']['TaskEvent']
export type CategoryEvent = components['schemas']['CategoryEvent']
export type DeletionEvent = components['schemas']['DeletionEvent']
export type ReminderEvent = components['schemas']['ReminderEvent']
export type WebhookEvent = TaskEvent | CategoryEvent | DeletionEvent | ReminderEvent
export type EventType = components['schemas']['EventType']
export type Webhook = components['schemas']['Webhook']
export type WebhookCreated = components['schemas']['WebhookCreated']
export type WebhookDelivery = components['schemas']['WebhookDelivery']

/** A delivery whose signature or timestamp does not check out: answer it with a 4xx, and do not act on it. */
export class WebhookVerificationError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WebhookVerificationError'
  }
}

export interface VerifyOptions {
  /** Seconds a timestamp may be from now, either way (default 300, Standard Webhooks' 5 minutes). */
  toleranceSeconds?: number
  /** The current time (default Date.now()), for tests. */
  now?: Date
}

const encoder = new TextEncoder()

function fromBase64 (text: string): Uint8Array {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/**
 * Checks a webhook delivery (Standard Webhooks) and returns its event: the `webhook-signature`
 * must hold a `v1,` HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{rawBody}` keyed with the
 * secret's decoded bytes (any one of several space-separated signatures may match), and
 * `webhook-timestamp` must be within 5 minutes of now. Pass the body exactly as received
 * (not re-serialized JSON). Throws WebhookVerificationError otherwise. Uses WebCrypto
 * (Node.js, browsers, Deno, workers), whose HMAC verify compares in constant time.
 */
export async function verifyWebhook (
  secret: string,
  headers: Headers | Record<string, string | string[] | undefined>,
  rawBody: string | Uint8Array,
  { toleranceSeconds = 300, now = new Date() }: VerifyOptions = {}
): Promise<WebhookEvent> {
  const header = (name: string): string => {
    const value = headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()])
    const text = Array.isArray(value) ? value.join(' ') : value
    if (text === undefined || text === null || text === '') throw new WebhookVerificationError(`missing ${name} header`)
    return text
  }
  const id = header('webhook-id')
  const timestamp = header('webhook-timestamp')
  const signatures = header('webhook-signature')
  if (!/^[0-9]{1,15}$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a Unix time')
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) throw new WebhookVerificationError('webhook-timestamp is too far from now')
  const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody)
  let keyBytes: Uint8Array
  try {
    keyBytes = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret)
  } catch {
    throw new WebhookVerificationError('the secret is not a whsec_ base64 secret')
  }
  const key = await globalThis.crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
  const signed = encoder.encode(`${id}.${timestamp}.${body}`)
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',', 2)
    if (version !== 'v1' || value === undefined) continue
    let bytes: Uint8Array
    try {
      bytes = fromBase64(value)
    } catch {
      continue
    }
    if (await globalThis.crypto.subtle.verify('HMAC', key, bytes, signed)) {
      return JSON.parse(body) as WebhookEvent
    }
  }
  throw new WebhookVerificationError('no webhook-signature matches')
}

/** An event of the stream, the same value a webhook receives: `{ id, type, occurred_at, data }`. */
export type TodoEvent = WebhookEvent

/** A stream that could not open: `status` and the problem (410: sync, then stream without `lastEventId`). */
export class StreamError extends Error {
  constructor (readonly status: number, readonly problem: Problem | undefined) {
    super(problem?.detail ?? `the event stream answered ${status}`)
    this.name = 'StreamError'
  }
}

/**
 * The caller's live events (`GET /api/{user_id}/events`, server-sent events), read through
 * the client (so the token travels in its Authorization header, as for every request) with
 * fetch streaming. Resumes after `lastEventId` when given. Ends when `signal` aborts or the
 * service ends the stream (then reconnect with the last event's id); throws StreamError when
 * the stream cannot open.
 */
export async function * streamEvents (api: TodoClient, { lastEventId, signal }: { lastEventId?: string, signal?: AbortSignal } = {}): AsyncGenerator<TodoEvent> {
  const { data: body, error, response } = await api.GET('/api/{user_id}/events', {
    params: { path: { user_id: 'me' }, ...(lastEventId === undefined ? {} : { header: { 'Last-Event-ID': lastEventId } }) },
    headers: { accept: 'text/event-stream' },
    parseAs: 'stream',
    ...(signal === undefined ? {} : { signal })
  })
  if (response.status !== 200 || body === undefined || body === null) {
    throw new StreamError(response.status, error as Problem | undefined)
  }
  const decoder = new TextDecoder()
  let buffered = ''
  const reader = body.getReader()
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffered += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
      let end: number
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
        if (data.length > 0) yield JSON.parse(data.join('\n')) as TodoEvent
      }
    }
  } catch (error) {
    if (signal?.aborted === true) return
    throw error
  } finally {
    reader.releaseLock()
  }
}

export interface SubscribeOptions {
  /** Resume after this event (the id of the last one the client has). */
  lastEventId?: string
  /** Called for each event, in order; a promise it returns is awaited before the next. */
  onEvent: (event: TodoEvent) => void | Promise<void>
  /** Stops the subscription. */
  signal?: AbortSignal
  /** Wait before reconnecting (default 3000 ms, as the stream's `retry:` says), doubled up to 30 s while it keeps failing. */
  retryMs?: number
}

/**
 * Keeps a live subscription: `streamEvents`, reconnected with `Last-Event-ID` whenever the
 * stream ends or the connection fails, so no event is missed or seen twice. Resolves when
 * `signal` aborts; rejects with a StreamError the stream answers with a client error (410
 * `events-gone`: sync, then subscribe without `lastEventId`; 401: a new token is needed).
 */
/** Read through a function: TypeScript would otherwise keep the narrowing from the loop's test. */
const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true

export async function subscribe (api: TodoClient, { lastEventId, onEvent, signal, retryMs = 3_000 }: SubscribeOptions): Promise<void> {
  let last = lastEventId
  let delay = retryMs
  while (!isAborted(signal)) {
    try {
      for await (const event of streamEvents(api, { ...(last === undefined ? {} : { lastEventId: last }), ...(signal === undefined ? {} : { signal }) })) {
        await onEvent(event)
        last = event.id
        delay = retryMs
      }
    } catch (error) {
      // 4xx other than 429 will not get better by retrying; 429, 5xx and network errors may.
      if (error instanceof StreamError && error.status < 500 && error.status !== 429) throw error
    }
    if (isAborted(signal)) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay)
      signal?.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
    })
    delay = Math.min(delay * 2, 30_000)
  }
}
