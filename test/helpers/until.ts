/** Polls fn until it returns something other than undefined (errors count as not yet). */
export async function until<T>(fn: () => Promise<T | undefined>, ms = 15_000, every = 100): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting`)
    await new Promise((r) => setTimeout(r, every))
  }
}
