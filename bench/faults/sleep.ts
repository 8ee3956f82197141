// A timer that an abort cuts short (the soak's loops stop at once when the time is up).
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Polls `fn` until it returns something other than undefined, or the ceiling passes (then undefined). */
export async function waitFor<T>(fn: () => Promise<T | undefined>, ceilingMs: number, everyMs = 500): Promise<T | undefined> {
  const end = Date.now() + ceilingMs
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) return undefined
    await sleep(everyMs)
  }
}
