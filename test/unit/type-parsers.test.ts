import t from 'tap'
import { timestamptzToRfc3339 } from '../../src/database/type-parsers.js'

t.test('timestamptzToRfc3339', async (t) => {
  const cases: Array<[string, string]> = [
    ['2026-01-10 09:30:00+00', '2026-01-10T09:30:00.000Z'],
    ['2026-01-10 09:30:00.1+00', '2026-01-10T09:30:00.100Z'],
    ['2026-01-10 09:30:00.12+00', '2026-01-10T09:30:00.120Z'],
    ['2026-01-10 09:30:00.123+00', '2026-01-10T09:30:00.123Z'],
    ['2026-01-10 09:30:00.123456+00', '2026-01-10T09:30:00.123Z'],
    // Not UTC: pg's own parser, then ISO.
    ['2026-01-10 11:30:00.5+02', '2026-01-10T09:30:00.500Z'],
    ['2026-01-10 04:00:00+05:30', '2026-01-09T22:30:00.000Z']
  ]
  for (const [text, iso] of cases) t.equal(timestamptzToRfc3339(text), iso, text)
  t.equal(timestamptzToRfc3339('2026-01-10 09:30:00.123+00'), new Date('2026-01-10T09:30:00.123Z').toISOString(), 'the same as Date would give')
})
