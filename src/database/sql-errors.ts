/** Recognising constraint violations, so repositories can return them as values. */

export function isUniqueViolation (error: unknown, constraint: string): boolean {
  const e = error as { code?: string, constraint?: string }
  return e.code === '23505' && e.constraint === constraint
}

export function isForeignKeyViolation (error: unknown, constraint: string): boolean {
  const e = error as { code?: string, constraint?: string }
  return e.code === '23503' && e.constraint === constraint
}

/** A CHECK constraint, or a trigger raising check_violation under a rule's name (check_task_tree). */
export function isCheckViolation (error: unknown, constraint: string): boolean {
  const e = error as { code?: string, constraint?: string }
  return e.code === '23514' && e.constraint === constraint
}
