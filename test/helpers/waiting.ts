/** Waiting in tests for something another process or a job does. */

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Reads until `done` holds, every 100 ms; fails, with the last value read, after `timeoutMs`. */
export async function eventually<T> (what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`)
    await sleep(100)
  }
}

/**
 * `promise`, or a failure naming `what` after `ms`: tap's file timeout says only that a file
 * hung, not which of its awaits.
 */
export async function settlesWithin<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what}: not settled within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
