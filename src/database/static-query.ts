/**
 * Statements built by Kysely once, then only bound. Building and compiling a query (parsing
 * each selected column, freezing every node, visiting the tree) was the largest part of the
 * service's own CPU on a single-task read (docs/benchmarks.md, "Round two"), and the text is
 * the same every time: only the values change.
 *
 * The first call builds the query with a unique marker object in place of each value, so the
 * compiled parameters say which value goes where; parameters that are not markers are
 * constants of the text (a `false` in `completed = false`) and are kept as they are. Only for
 * builders whose text depends on nothing but their shape (no `if` on a value, no literal made
 * of one): a value that does not come out as a parameter is refused at the first call.
 *
 * - `staticQuery(build)`: one shape, positional arguments.
 * - `shapedQueries()`: a statement per shape, named by the caller (a listing's filters, sort
 *   and order), values by name; absent (undefined) values are not bound.
 */
import { type Compilable, CompiledQuery, type Kysely } from 'kysely'
import type { Database } from './types.js'

/** Where each parameter comes from: the index of a value, or a constant of the text. */
type Slot = { value: number } | { constant: unknown }

interface Compiled { sql: string, slots: Slot[] }

interface Marker { staticQueryValue: number }

function compile<Row> (build: (markers: Marker[]) => Compilable<Row>, count: number): Compiled {
  const markers: Marker[] = Array.from({ length: count }, (_, index) => ({ staticQueryValue: index }))
  const query = build(markers).compile()
  const slots = query.parameters.map((parameter): Slot => {
    const index = markers.indexOf(parameter as Marker)
    return index === -1 ? { constant: parameter } : { value: index }
  })
  const bound = new Set(slots.flatMap((slot) => 'value' in slot ? [slot.value] : []))
  if (bound.size !== count) throw new Error(`a static query must bind each of its ${count} values as a parameter: ${query.sql}`)
  return { sql: query.sql, slots }
}

async function run<Row> (db: Kysely<Database>, { sql, slots }: Compiled, values: readonly unknown[]): Promise<Row[]> {
  const parameters = slots.map((slot) => 'value' in slot ? values[slot.value] : slot.constant)
  return (await db.executeQuery<Row>(CompiledQuery.raw(sql, parameters))).rows
}

export function staticQuery<Args extends readonly unknown[], Row> (
  build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>
): (db: Kysely<Database>, ...args: Args) => Promise<Row[]> {
  let compiled: Compiled | undefined
  return async (db, ...args) => {
    compiled ??= compile((markers) => build(db, ...(markers as unknown as Args)), args.length)
    return await run(db, compiled, args)
  }
}

/** Shapes kept; past it the cache starts again (a listing's shapes are few in practice). */
const MAX_SHAPES = 500

export function shapedQueries<Values extends Record<string, unknown>, Row> (): (
  db: Kysely<Database>, shape: string, values: Values, build: (db: Kysely<Database>, markers: Values) => Compilable<Row>
) => Promise<Row[]> {
  const byShape = new Map<string, { names: string[], compiled: Compiled }>()
  return async (db, shape, values, build) => {
    let entry = byShape.get(shape)
    if (entry === undefined) {
      const names = Object.keys(values).filter((name) => values[name] !== undefined)
      const compiled = compile((markers) => {
        const named: Record<string, unknown> = {}
        names.forEach((name, index) => { named[name] = markers[index] })
        return build(db, named as Values)
      }, names.length)
      entry = { names, compiled }
      if (byShape.size >= MAX_SHAPES) byShape.clear()
      byShape.set(shape, entry)
    }
    return await run(db, entry.compiled, entry.names.map((name) => values[name]))
  }
}
