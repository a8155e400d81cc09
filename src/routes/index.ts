/** Every handler, keyed by operationId. The type demands one for each operation of the contract. */
import { accountHandlers } from './account.js'
import { batchHandlers } from './batch.js'
import { categoryHandlers } from './categories.js'
import { eventHandlers } from './events.js'
import { healthHandlers } from './health.js'
import { syncHandlers } from './sync.js'
import { taskHandlers } from './tasks.js'
import { trashHandlers } from './trash.js'
import type { Handlers } from './types.js'
import { userHandlers } from './users.js'
import { webhookHandlers } from './webhooks.js'

export const handlers: Handlers = {
  ...userHandlers,
  ...taskHandlers,
  ...trashHandlers,
  ...syncHandlers,
  ...eventHandlers,
  ...categoryHandlers,
  ...batchHandlers,
  ...webhookHandlers,
  ...accountHandlers,
  ...healthHandlers
}
