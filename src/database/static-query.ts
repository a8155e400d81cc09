/**
 * A statement whose shape never changes, built by Kysely once: later calls only bind new
 * values. Building and compiling a query (parsing each selected column, freezing every node,
 * visiting the tree) was the largest part of the service's own CPU on a single-task read
 * (docs/benchmarks.md, "Where the service's time goes"); the text is the same every time.
 *
 * The first call builds the query with a unique marker object in place of each argument, so
 * the compiled parameters say which argument goes where. Only for builders whose shape does
 * not depend on their arguments' values (no `if` on them, no literal made of them): an
 * argument that does not come out as a parameter is refused at the first call.
 */
import { type Compilable, CompiledQuery, type Kysely } from 'kysely'
import type { Database } from './types.js'

interface Compiled { sql: string, slots: number[] }

export function staticQuery<Args extends readonly unknown[], Row> (
  build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>
): (db: Kysely<Database>, ...args: Args) => Promise<Row[]> {
  let compiled: Compiled | undefined
  return async (db, ...args) => {
    compiled ??= compile(db, build, args.length)
    const { sql, slots } = compiled
    const { rows } = await db.executeQuery<Row>(CompiledQuery.raw(sql, slots.map((slot) => args[slot])))
    return rows
  }
}

function compile<Args extends readonly unknown[], Row> (db: Kysely<Database>, build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>, count: number): Compiled {
  const markers = Array.from({ length: count }, (_, index) => ({ staticQueryArgument: index }))
  const query = build(db, ...(markers as unknown as Args)).compile()
  const slots = query.parameters.map((parameter) => markers.indexOf(parameter as { staticQueryArgument: number }))
  if (slots.includes(-1) || new Set(slots).size !== count) {
    throw new Error(`a static query must bind each of its ${count} arguments as a parameter: ${query.sql}`)
  }
  return { sql: query.sql, slots }
}
