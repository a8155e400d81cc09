/**
 * Named (prepared) statements for every parameterised query. Kysely hands pg plain
 * `query(text, values)` calls, which PostgreSQL parses and plans each time; giving pg a name
 * per distinct text makes each connection parse and plan a statement once and then only bind
 * and execute it. On this service's hot reads that is PostgreSQL CPU saved on every request.
 * The name is derived from the text, so the same name never stands for two texts.
 * (Behind PgBouncer in transaction mode, use version 1.21+ with max_prepared_statements.)
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'

const names = new Map<string, string>()
const MAX_NAMES = 2_000

/** The statement name of a text: derived from it, so the same name never stands for two texts. */
export function nameFor (text: string): string {
  let name = names.get(text)
  if (name === undefined) {
    name = 'k' + createHash('sha1').update(text).digest('base64url')
    if (names.size >= MAX_NAMES) names.clear()
    names.set(text, name)
  }
  return name
}

/** Wraps a newly connected client's `query` so that parameterised texts run as named statements. */
export function usePreparedStatements (client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined) {
      return query({ name: nameFor(config), text: config, values })
    }
    return query(config, values, callback)
  }
}
