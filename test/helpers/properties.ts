/**
 * fast-check properties as tap assertions: a failing property fails one assertion whose
 * diagnostic holds the shrunk counterexample, rather than throwing out of the test.
 */
import fc from 'fast-check'
import type { Test } from 'tap'

export function holds<Ts> (t: Test, property: fc.IProperty<Ts>, message: string, parameters: fc.Parameters<Ts> = {}): void {
  const details = fc.check(property, parameters)
  t.notOk(details.failed, message, { counterexample: fc.defaultReportMessage(details) ?? '' })
}
