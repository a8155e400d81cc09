/** API.md: tags are stored lowercase, duplicates merged, in first-seen order. */
export function normalizeTags (tags: readonly string[]): string[] {
  const seen = new Set<string>()
  for (const tag of tags) seen.add(tag.trim().toLowerCase())
  return [...seen]
}

/**
 * Indexes of the given tags that are longer than `maxLength` code points once normalised:
 * the contract bounds a tag as sent, but lowercasing can lengthen one ('İ' becomes 'i̇').
 */
export function overlongOnceNormalized (tags: readonly string[], maxLength: number): number[] {
  const overlong: number[] = []
  tags.forEach((tag, index) => {
    if ([...tag.trim().toLowerCase()].length > maxLength) overlong.push(index)
  })
  return overlong
}
