/**
 * npm run seed: a little development data — users alice and bob, a few categories and tasks
 * each — on DATABASE_URL or the embedded database. Idempotent: a user who has tasks already is
 * left alone. Never run by the tests' own setup. Mint a token to see it: npm run token -- alice
 */
import '../src/node-version.js'
import { sql } from 'kysely'
import * as categories from '../src/repositories/categories.js'
import * as tasks from '../src/repositories/tasks.js'
import * as users from '../src/repositories/users.js'
import { openScriptDatabase } from './database.js'

const PEOPLE = [
  { id: 'alice', email: 'alice@example.com', name: 'Alice' },
  { id: 'bob', email: 'bob@example.com', name: 'Bob' }
]

async function main (): Promise<void> {
  const { db, close } = await openScriptDatabase({ migrate: true, poolMax: 2 })
  try {
    for (const person of PEOPLE) {
      await users.upsert(db, person.id, person)
      const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM tasks WHERE user_id = ${person.id}`.execute(db)
      if (Number(rows[0]?.n) > 0) { process.stdout.write(`${person.id}: has tasks already, left alone\n`); continue }
      const made: Record<string, string> = {}
      for (const [name, color] of [['Work', '#1E88E5'], ['Home', '#43A047'], ['Errands', null]] as const) {
        const category = await categories.insert(db, person.id, { name, color })
        if (typeof category !== 'string') made[name] = category.id
      }
      const day = (n: number): string => new Date(Date.now() + n * 86_400_000).toISOString()
      const samples = [
        { title: 'Prepare the quarterly report', priority: 'high', due_at: day(3), category_id: made.Work, tags: ['reports'], description: 'Numbers from finance first.' },
        { title: 'Book the team offsite', priority: 'medium', due_at: day(14), category_id: made.Work, tags: ['team'], description: null },
        { title: 'Buy milk and eggs', priority: 'low', due_at: day(1), category_id: made.Errands, tags: ['groceries'], description: null },
        { title: 'Fix the garden fence', priority: 'medium', due_at: null, category_id: made.Home, tags: ['garden', 'diy'], description: 'Two planks are loose.' },
        { title: 'Call the dentist', priority: 'high', due_at: day(-1), category_id: null, tags: [], description: null }
      ] as const
      for (const sample of samples) {
        await tasks.insert(db, person.id, { ...sample, due_date: null, time_zone: null, category_id: sample.category_id ?? null, parent_id: null, tags: [...sample.tags], completed: false })
      }
      process.stdout.write(`${person.id}: ${Object.keys(made).length} categories, ${samples.length} tasks\n`)
    }
  } finally {
    await close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
