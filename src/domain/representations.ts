/**
 * Rows → the contract's representations. Columns already carry the JSON names, and the
 * database layer already delivers timestamps as RFC 3339 strings (database/type-parsers.ts).
 */
import type { Category, User } from '../contract/index.js'
import type { CategoryRow, UserRow } from '../database/types.js'

export function toUser (row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, time_zone: row.time_zone ?? 'UTC', created_at: row.created_at }
}

export function toCategory (row: CategoryRow): Category {
  return {
    id: row.id,
    user_id: row.user_id,
    name: row.name,
    color: row.color,
    created_at: row.created_at,
    updated_at: row.updated_at
  }
}

/** The path of a user's resource, with the real (percent-encoded) user id, for `Location`. */
export function resourcePath (userId: string, collection: 'tasks' | 'categories' | 'webhooks', id: string): string {
  return `/api/${encodeURIComponent(userId)}/${collection}/${id}`
}
