/**
 * One page of a sync, assembled from what changed after a change number (API.md, "Incremental
 * sync"). Every change of a user carries a number in commit order (the change record); a page
 * holds every entity and deletion numbered up to a bound, and the next token names the bound.
 * Pure: the rows come from the repositories, read in one snapshot.
 */

/** Something a sync reports, with the number of its latest change. */
export interface Numbered { change_seq: string }

export interface PageInput<T extends Numbered, C extends Numbered, D extends { seq: string }> {
  /** The change number the page starts after. */
  after: string
  /** Up to `limit + 1` tasks numbered after `after`, in number order. */
  tasks: T[]
  /** Up to `limit + 1` categories numbered after `after`, in number order. */
  categories: C[]
  /** Up to `deletedLimit + 1` deletions numbered after `after`, in number order. */
  deletions: D[]
  limit: number
  deletedLimit: number
}

export interface Page<T, C, D> {
  tasks: T[]
  categories: C[]
  deletions: D[]
  /** The change number the next page starts after. */
  next: string
  hasMore: boolean
}

const byNumber = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The first `limit` tasks plus categories in change order, with every deletion numbered no
 * later than the last of them (at most `deletedLimit`): whatever is left out is numbered after
 * everything kept, so continuing from `next` neither skips nor repeats anything.
 */
export function assemblePage<T extends Numbered, C extends Numbered, D extends { seq: string }> (input: PageInput<T, C, D>): Page<T, C, D> {
  const { limit, deletedLimit } = input
  let bound: bigint | undefined
  const entities = [...input.tasks.map((row) => BigInt(row.change_seq)), ...input.categories.map((row) => BigInt(row.change_seq))].sort(byNumber)
  if (entities.length > limit) bound = entities[limit - 1]
  if (input.deletions.length > deletedLimit) {
    const last = BigInt((input.deletions[deletedLimit - 1] as D).seq)
    if (bound === undefined || last < bound) bound = last
  }
  const within = (seq: string): boolean => bound === undefined || BigInt(seq) <= bound
  const tasks = input.tasks.filter((row) => within(row.change_seq))
  const categories = input.categories.filter((row) => within(row.change_seq))
  const deletions = input.deletions.filter((row) => within(row.seq))
  let next = BigInt(input.after)
  if (bound !== undefined) {
    next = bound
  } else {
    for (const seq of [...tasks.map((row) => row.change_seq), ...categories.map((row) => row.change_seq), ...deletions.map((row) => row.seq)]) {
      if (BigInt(seq) > next) next = BigInt(seq)
    }
  }
  return { tasks, categories, deletions, next: next.toString(), hasMore: bound !== undefined }
}
