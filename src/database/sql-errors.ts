/** Recognising constraint violations, so repositories can return them as values. */

export function isUniqueViolation (error: unknown, constraint: string): boolean {
  const e = error as { code?: string, constraint?: string }
  return e.code === '23505' && e.constraint === constraint
}

export function isForeignKeyViolation (error: unknown, constraint: string): boolean {
  const e = error as { code?: string, constraint?: string }
  return e.code === '23503' && e.constraint === constraint
}
