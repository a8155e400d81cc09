/** Whether a program a test drives is installed (tests that need one skip, saying which, when it is not). */
import { execFileSync } from 'node:child_process'

export function hasCommand (name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
