/**
 * Entity tags of tasks (RFC 9110 §8.8.3). The ETag is the task's version, quoted: a strong
 * validator that changes whenever the stored task changes.
 */

export const etagFor = (version: number): string => `"${version}"`

/** Versions are stored as int4. */
const MAX_VERSION = 2_147_483_647

const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/

interface EntityTag { weak: boolean, opaque: string }

/** `*`, or the list of entity tags; malformed members are dropped (they can never match). */
export function parseEntityTags (header: string): '*' | EntityTag[] {
  if (header.trim() === '*') return '*'
  const tags: EntityTag[] = []
  for (const member of header.split(',')) {
    const match = ENTITY_TAG.exec(member.trim())
    if (match !== null) tags.push({ weak: match[1] !== undefined, opaque: match[2] as string })
  }
  return tags
}

/**
 * The versions an If-Match header accepts: `*` (any existing task), or those of its strong
 * tags (If-Match uses the strong comparison: a weak tag never matches).
 */
export function ifMatchVersions (header: string | undefined): '*' | number[] | undefined {
  if (header === undefined) return undefined
  const tags = parseEntityTags(header)
  if (tags === '*') return '*'
  // A version is a PostgreSQL integer: a larger number can match no task (and must not reach SQL).
  return tags.filter((t) => !t.weak && /^[1-9]\d{0,9}$/.test(t.opaque) && Number(t.opaque) <= MAX_VERSION).map((t) => Number(t.opaque))
}

/** If-None-Match uses the weak comparison: W/"3" matches version 3 too. */
export function ifNoneMatchHits (header: string | undefined, version: number): boolean {
  if (header === undefined) return false
  const tags = parseEntityTags(header)
  return tags === '*' || tags.some((t) => t.opaque === String(version))
}
