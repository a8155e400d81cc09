/** Reading the metrics endpoint's answers: Prometheus' text format, sample by sample. */

export interface Sample { name: string, labels: Record<string, string>, value: number }

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export function samples (text: string): Sample[] {
  const result: Sample[] = []
  for (const line of text.split('\n')) {
    const match = LINE.exec(line)
    if (match === null) continue
    const labels: Record<string, string> = {}
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL)) labels[name as string] = value as string
    result.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return result
}

/** The value of the one sample named so whose labels include these; undefined when there is none. */
export function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text).filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}

export interface Scraped { status: number, contentType: string | null, text: string, headers: Headers }

export async function scrape (url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Scraped> {
  const response = await fetch(url, { method, headers })
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text(), headers: response.headers }
}
