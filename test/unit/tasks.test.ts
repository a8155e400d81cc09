/**
 * src/domain/tasks.ts: what a create, replace or merge patch writes, and the Task a row
 * becomes.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import t from 'tap'
import { parse } from 'yaml'
import { dereferencedContract, type TaskPatch, type ValidatedSchemas } from '../../src/contract/index.js'
import { createValidatorCompiler } from '../../src/contract/validators.js'
import type { TaskRow } from '../../src/database/types.js'
import { fullState, patchChanges, toTask } from '../../src/domain/tasks.js'
import { holds } from '../helpers/properties.js'

const CATEGORY = '3b241101-e2bb-4255-8caf-4136c566a962'

t.test('patchChanges', async (t) => {
  t.test('changes nothing for an empty patch', async (t) => {
    t.strictSame(patchChanges({}), {})
  })

  t.test('leaves members absent from the patch out of the changes', async (t) => {
    t.strictSame(patchChanges({ priority: 'high' }), { priority: 'high' })
    t.strictSame(patchChanges({ due_at: null }), { due_at: null })
  })

  t.test('a due set to a value clears the other kind; one set to null leaves it', async (t) => {
    t.strictSame(patchChanges({ due_at: '2026-03-01T12:00:00Z' }), { due_at: '2026-03-01T12:00:00Z', due_date: null })
    t.strictSame(patchChanges({ due_date: '2026-03-01' }), { due_date: '2026-03-01', due_at: null })
    t.strictSame(patchChanges({ due_date: null }), { due_date: null })
    t.strictSame(patchChanges({ due_date: '2026-03-01', due_at: null }), { due_at: null, due_date: '2026-03-01' })
  })

  t.test('clears description, due_at and category_id given null', async (t) => {
    const changes = patchChanges({ description: null, due_at: null, category_id: null })
    t.strictSame(changes, { description: null, due_at: null, category_id: null })
    t.ok('description' in changes && 'due_at' in changes && 'category_id' in changes, 'null is a change, not an absence')
  })

  t.test('sets description, due_at and category_id given values', async (t) => {
    t.strictSame(patchChanges({ description: 'two bottles', due_at: '2026-03-01T12:00:00Z', category_id: CATEGORY }),
      { description: 'two bottles', due_at: '2026-03-01T12:00:00Z', due_date: null, category_id: CATEGORY })
  })

  t.test('trims the title', async (t) => {
    t.strictSame(patchChanges({ title: ' \t Buy milk \n' }), { title: 'Buy milk' })
  })

  t.test('normalises the tags, and an empty list clears them', async (t) => {
    t.strictSame(patchChanges({ tags: [' Home', 'home', 'ERRANDS '] }), { tags: ['home', 'errands'] })
    t.strictSame(patchChanges({ tags: [] }), { tags: [] })
  })

  t.test('passes completed through, false included', async (t) => {
    t.strictSame(patchChanges({ completed: true }), { completed: true })
    t.strictSame(patchChanges({ completed: false }), { completed: false })
  })

  t.test('changes exactly the members the patch has', async (t) => {
    const patch = fc.record({
      title: fc.string({ minLength: 1 }),
      description: fc.option(fc.string()),
      priority: fc.constantFrom('low', 'medium', 'high') as fc.Arbitrary<'low' | 'medium' | 'high'>,
      due_at: fc.option(fc.constant('2026-03-01T12:00:00Z')),
      time_zone: fc.option(fc.constantFrom('Europe/Berlin', 'Asia/Tokyo')),
      category_id: fc.option(fc.uuid()),
      tags: fc.array(fc.string({ minLength: 1 })),
      completed: fc.boolean()
    }, { requiredKeys: [] })
    holds(t, fc.property(patch, (p: TaskPatch) => {
      const changes = patchChanges(p)
      // …and due_date, cleared by a due_at value (the patch has no due_date here).
      const expected = typeof p.due_at === 'string' ? [...Object.keys(p), 'due_date'] : Object.keys(p)
      return JSON.stringify(Object.keys(changes).sort()) === JSON.stringify(expected.sort())
    }), 'the keys of the changes are the keys of the patch (and the due it replaces)')
  })
})

/** A createTask body as the handler receives it: validated by the contract, defaults filled in. */
function received (body: Record<string, unknown>): ValidatedSchemas['TaskCreate'] {
  const operation = (dereferencedContract().paths['/api/{user_id}/tasks'] as { post: { requestBody: { content: { 'application/json': { schema: object } } } } }).post
  const validate = createValidatorCompiler()({ schema: operation.requestBody.content['application/json'].schema, httpPart: 'body', method: 'POST', url: '/' }) as (value: unknown) => boolean
  const copy = structuredClone(body)
  if (!validate(copy)) throw new Error('the body does not match the contract')
  return copy as ValidatedSchemas['TaskCreate']
}

t.test('fullState', async (t) => {
  t.test('gives omitted optional fields the contract\'s defaults', async (t) => {
    t.strictSame(fullState(received({ title: 'Buy milk' })), {
      title: 'Buy milk',
      description: null,
      priority: 'medium',
      due_at: null,
      due_date: null,
      time_zone: null,
      recurrence_rule: null,
      reminders: [],
      category_id: null,
      parent_id: null,
      tags: [],
      completed: false
    })
  })

  t.test('gives explicit nulls as null', async (t) => {
    const state = fullState(received({ title: 'x', description: null, due_at: null, category_id: null }))
    t.equal(state.description, null)
    t.equal(state.due_at, null)
    t.equal(state.category_id, null)
  })

  t.test('keeps given fields, trimming the title and normalising the tags', async (t) => {
    t.strictSame(fullState({
      title: '  Buy milk ',
      description: 'two bottles',
      priority: 'high',
      due_at: '2026-03-01T12:00:00Z',
      due_date: null,
      time_zone: 'Europe/Berlin',
      recurrence_rule: 'FREQ=DAILY',
      reminders: [{ at: '2026-03-01T12:00:00+01:00' }, { before_due: 'PT15M' }],
      category_id: CATEGORY,
      parent_id: null,
      tags: ['Errands', ' errands', 'Home'],
      completed: true
    }), {
      title: 'Buy milk',
      description: 'two bottles',
      priority: 'high',
      due_at: '2026-03-01T12:00:00Z',
      due_date: null,
      time_zone: 'Europe/Berlin',
      recurrence_rule: 'FREQ=DAILY',
      reminders: [{ at: '2026-03-01T11:00:00.000Z' }, { before_due: 'PT15M' }],
      category_id: CATEGORY,
      parent_id: null,
      tags: ['errands', 'home'],
      completed: true
    })
  })
})

t.test('toTask', async (t) => {
  const row: TaskRow = {
    user_id: 'auth0|5f8d0e1c2b3a',
    id: '6f1c1f5e-8d5b-4a57-9a3e-2d9c6f7b8a10',
    title: 'File the tax return',
    description: null,
    completed: true,
    completed_at: '2026-01-10T09:30:00.120Z',
    priority: 'low',
    due_at: null,
    due_date: '2026-01-12',
    time_zone: 'Asia/Tokyo',
    recurrence_rule: 'FREQ=WEEKLY;BYDAY=MO',
    reminders: [{ before_due: 'P1D' }],
    category_id: CATEGORY,
    parent_id: null,
    position: 'a3',
    tags: ['admin'],
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-10T09:30:00.120Z',
    version: 4,
    deleted_at: null
  }

  t.test('has exactly the fields of the contract\'s Task', async (t) => {
    const contract = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'))
    const taskSchema = contract.components.schemas.Task as { required: string[], properties: Record<string, unknown> }
    // A row as selected (selectAll) also carries the generated columns: none may leak.
    const selected = { ...row, search: "'file':1 'tax':3", priority_rank: 1, title_sort: 'file the tax return' }
    const keys = Object.keys(toTask(selected)).sort()
    t.same(keys, [...taskSchema.required].sort(), 'every required field')
    t.same(keys, Object.keys(taskSchema.properties).sort(), 'and nothing else')
  })

  t.test('copies every value unchanged', async (t) => {
    t.strictSame(toTask(row), row)
  })
})
