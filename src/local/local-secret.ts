/**
 * The local-use JWT secret (API.md): with the embedded database outside production and no
 * key configured, the service generates a secret once and keeps it in DATA_DIR, so that
 * `npm run token -- <user>` can mint tokens for it. Never used with DATABASE_URL.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

export const LOCAL_SECRET_FILE = 'jwt-secret'

async function readLocalSecret (dataDir: string): Promise<string | undefined> {
  const file = path.join(dataDir, LOCAL_SECRET_FILE)
  return existsSync(file) ? (await readFile(file, 'utf8')).trim() : undefined
}

/** Returns the secret in DATA_DIR, creating it first when there is none. */
export async function ensureLocalSecret (dataDir: string): Promise<{ secret: string, created: boolean }> {
  const existing = await readLocalSecret(dataDir)
  if (existing !== undefined) return { secret: existing, created: false }
  await mkdir(dataDir, { recursive: true })
  const secret = randomBytes(48).toString('base64url')
  await writeFile(path.join(dataDir, LOCAL_SECRET_FILE), secret + '\n', { mode: 0o600 })
  return { secret, created: true }
}
