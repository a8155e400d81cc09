/** The same PostgreSQL server, another database: `postgres://…/<database>`. */
export function withDatabase (url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = '/' + encodeURIComponent(database)
  return parsed.toString()
}
