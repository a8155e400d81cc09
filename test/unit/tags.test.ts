/**
 * src/domain/tags.ts: tags are stored trimmed and lowercase, duplicates merged, in
 * first-seen order (openapi.yaml TaskTags).
 */
import fc from 'fast-check'
import t from 'tap'
import { normalizeTags, overlongOnceNormalized } from '../../src/domain/tags.js'
import { holds } from '../helpers/properties.js'

const tags = fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 20 })

t.test('lowercases tags', async (t) => {
  t.same(normalizeTags(['Home', 'ERRANDS', 'ÉTÉ']), ['home', 'errands', 'été'])
})

t.test('trims surrounding whitespace, keeping inner spaces', async (t) => {
  t.same(normalizeTags(['  home\t', '\nweekly review ']), ['home', 'weekly review'])
})

t.test('merges duplicates, keeping the first-seen order', async (t) => {
  t.same(normalizeTags(['work', ' Home', 'WORK ', 'home', 'errands', 'Work']), ['work', 'home', 'errands'])
})

t.test('gives an empty list for an empty list', async (t) => {
  t.same(normalizeTags([]), [])
})

t.test('does not change the list it is given', async (t) => {
  const given = ['B', 'b', ' a ']
  normalizeTags(given)
  t.same(given, ['B', 'b', ' a '])
})

t.test('gives trimmed, lowercase, distinct tags for any list', async (t) => {
  holds(t, fc.property(tags, (list) => {
    const normalized = normalizeTags(list)
    return normalized.every((tag) => tag === tag.trim().toLowerCase()) && new Set(normalized).size === normalized.length
  }), 'every tag trimmed and lowercase, none twice')
  holds(t, fc.property(tags, (list) => JSON.stringify(normalizeTags(normalizeTags(list))) === JSON.stringify(normalizeTags(list))),
    'normalising a normalised list changes nothing')
  holds(t, fc.property(fc.array(fc.string({ unit: 'grapheme-ascii' }), { minLength: 1 }), fc.nat(), (list, i) => {
    const variant = ` ${(list[i % list.length] as string).toUpperCase()}\t`
    return JSON.stringify(normalizeTags([...list, variant])) === JSON.stringify(normalizeTags(list))
  }), 'a later variant of a tag in another case or with spaces around is merged into it')
})

t.test('overlongOnceNormalized', async (t) => {
  // 'İ' (U+0130) lowercases to two code points, 'i' and U+0307: the stored tag doubles.
  t.same(overlongOnceNormalized(['home', 'İ'.repeat(40), 'İ'.repeat(20)], 40), [1], 'names the tag that lowercasing takes past the limit')
  t.same(overlongOnceNormalized([' ' + 'a'.repeat(40) + ' '], 40), [], 'spaces trimmed away do not count')
  t.same(overlongOnceNormalized([], 40), [])
})
