/**
 * Polls fn until it returns something other than undefined (errors count as
 * not yet). The ceiling is generous: it only bounds a test that fails, and a
 * 2-core machine running the suite beside other work is slow.
 */
export async function until<T>(fn: () => Promise<T | undefined>, ms = 30_000, every = 100): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting`)
    await new Promise((r) => setTimeout(r, every))
  }
}
