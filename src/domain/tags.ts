/** API.md: tags are stored lowercase, duplicates merged, in first-seen order. */
export function normalizeTags (tags: readonly string[]): string[] {
  const seen = new Set<string>()
  for (const tag of tags) seen.add(tag.trim().toLowerCase())
  return [...seen]
}
