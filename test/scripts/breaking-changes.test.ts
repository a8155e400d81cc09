/** The breaking-change guard over real edits of the contract. */
import t from 'tap'
import { loadContract } from '../../src/contract/index.js'
import { judge } from '../../scripts/breaking-changes.js'

type Doc = ReturnType<typeof loadContract> & { info: { version: string }, components: { schemas: Record<string, any> }, paths: Record<string, any> }
const edit = (change: (doc: Doc) => void): Doc => { const doc = loadContract() as Doc; change(doc); return doc }
const listTasksParameter = (doc: Doc, name: string): { schema: Record<string, unknown> } =>
  (doc.paths['/api/{user_id}/tasks'].get.parameters as Array<{ name?: string, schema: Record<string, unknown> }>).find((p) => p.name === name) as { schema: Record<string, unknown> }

t.test('breaking-change guard', async (t) => {
  const before = loadContract() as Doc

  t.test('passes an unchanged or compatible contract', async (t) => {
    t.ok(judge(before, loadContract() as Doc).ok)
    const added = judge(before, edit((doc) => { doc.components.schemas.TaskCreate.properties.note = { type: 'string' } }))
    t.ok(added.ok)
    t.same(added.breaking, [])
  })

  t.test('fails on a breaking change with the same major version', async (t) => {
    const cases: Array<[string, (doc: Doc) => void]> = [
      ['a removed operation', (doc) => { delete doc.paths['/api/{user_id}/tasks/{task_id}'].delete }],
      ['a tighter request rule', (doc) => { doc.components.schemas.TaskDescription.maxLength = 10 }],
      ['a parameter\'s default changed', (doc) => { listTasksParameter(doc, 'sort').schema.default = 'title' }],
      ['a removed response field', (doc) => { delete doc.components.schemas.Task.properties.tags; doc.components.schemas.Task.required = doc.components.schemas.Task.required.filter((f: string) => f !== 'tags') }]
    ]
    for (const [name, change] of cases) {
      const verdict = judge(before, edit((doc) => { change(doc); doc.info.version = '1.1.0' }))
      t.notOk(verdict.ok, name)
      t.ok(verdict.breaking.length > 0, `${name} is listed`)
    }
  })

  t.test('passes a parameter\'s default removed (no client sends it; the description says what omission does)', async (t) => {
    const verdict = judge(before, edit((doc) => { delete listTasksParameter(doc, 'sort').schema.default }))
    t.same(verdict.breaking, [])
  })

  t.test('passes number formats added for typed generators, and a format dropped from listed values', async (t) => {
    const int64 = judge(edit((doc) => { delete doc.components.schemas.Task.properties.version.format }), loadContract() as Doc)
    t.same(int64.breaking, [], 'int64 added to a field requests send too (an import\'s task versions)')
    const limit = edit((doc) => { delete (doc.components.parameters as any).Limit.schema.format })
    t.same(judge(limit, loadContract() as Doc).breaking, [], 'int32 added to a parameter bounded within 32 bits (limit 1..100)')
    const uri = edit((doc) => { doc.components.schemas.Problem.properties.type.format = 'uri' })
    t.same(judge(uri, loadContract() as Doc).breaking, [], 'format: uri dropped from an enum of fixed URIs')
    // int32 on a request integer without an upper bound refuses values it took before.
    const unbounded = (format?: string): Doc => edit((doc) => { doc.components.schemas.TaskCreate.properties.estimate = { type: 'integer', minimum: 0, ...(format === undefined ? {} : { format }) } })
    t.notOk(judge(unbounded(), unbounded('int32')).ok, 'int32 on an unbounded request integer is breaking')
    t.ok(judge(unbounded(), unbounded('int64')).ok, 'int64 is not')
  })

  t.test('passes a breaking change that comes with a new major version', async (t) => {
    t.ok(judge(before, edit((doc) => { delete doc.paths['/api/{user_id}/tasks/{task_id}'].delete; doc.info.version = '2.0.0' })).ok)
  })
})
