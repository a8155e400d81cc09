/**
 * The pattern rewrites the breaking-change guard accepts (scripts/breaking-changes.ts,
 * EQUIVALENT_PATTERNS) accept exactly what the patterns before them accepted: on random
 * well-formed strings around the length limits (ASCII, white space of several kinds, CJK,
 * emoji), the old pattern in Unicode mode (as the service's Ajv reads it), the new one in
 * Unicode mode and the new one without it (as zod and other validators read it) agree.
 */
import fc from 'fast-check'
import t from 'tap'
import { EQUIVALENT_PATTERNS } from '../../scripts/breaking-changes.js'
import { dereferencedContract } from '../../src/contract/index.js'
import { holds } from '../helpers/properties.js'

const character = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '0', '-', '.') },
  { weight: 2, arbitrary: fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u2003', '\u3000', '\ufeff') },
  { weight: 3, arbitrary: fc.constantFrom('😀', '🎉', '𝄞', '👩‍💻', '🇩🇪') },
  { weight: 2, arbitrary: fc.constantFrom('漢', 'é', 'ß', '\u0301') },
  // Any code point but a lone surrogate.
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c)) }
)

t.test('each accepted pattern rewrite accepts exactly what the pattern before it did', async (t) => {
  for (const [before, after] of EQUIVALENT_PATTERNS) {
    const limit = Number(/\{0,(\d+)\}/.exec(before)?.[1]) + 2
    const old = new RegExp(before, 'u')
    const unicode = new RegExp(after, 'u')
    const plain = new RegExp(after)
    // Lengths in characters around the limit, padded with white space on either side.
    const text = fc.tuple(fc.array(fc.constantFrom(' ', '\t', '\u3000'), { maxLength: 4 }), fc.array(character, { minLength: 0, maxLength: limit + 3 }), fc.array(fc.constantFrom(' ', '\n'), { maxLength: 4 }))
      .map(([lead, body, trail]) => lead.join('') + body.join('') + trail.join(''))
    holds(t, fc.property(text, (s) => old.test(s) === unicode.test(s) && unicode.test(s) === plain.test(s)), `${limit}: the same verdicts on random strings`, { numRuns: 3000 })
    for (const [s, accepted] of [
      ['😀'.repeat(limit), true], ['😀'.repeat(limit + 1), false], [`  ${'漢'.repeat(limit)}\n`, true],
      ['x', true], ['', false], [' \t ', false], [' '.repeat(20_000) + 'x' + ' '.repeat(20_000), true], [' '.repeat(20_000) + 'x'.repeat(limit + 1), false]
    ] as const) {
      t.same([old.test(s), unicode.test(s), plain.test(s)], [accepted, accepted, accepted], `${[...s].length} characters: ${accepted ? 'accepted' : 'refused'} by all three`)
    }
  }
  t.equal(EQUIVALENT_PATTERNS.length, 2)
})

t.test('the contract holds the rewritten patterns', async (t) => {
  const schemas = dereferencedContract().components.schemas as Record<string, { pattern?: string }>
  const written = new Set(EQUIVALENT_PATTERNS.map(([, after]) => after))
  t.ok(written.has(schemas.TaskTitle?.pattern as string), 'TaskTitle')
  t.ok(written.has(schemas.CategoryName?.pattern as string), 'CategoryName')
})
