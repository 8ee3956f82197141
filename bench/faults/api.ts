// The soak's HTTP client for a node's local API: the token on every call, a
// deadline on every call (a node killed mid-request must not hang the driver),
// and errors that keep the status and the API's error code for the tally.
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface NodeApi {
  base: string
  token: string
}

export async function call<T>(api: NodeApi, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const res = await fetch(api.base + path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await res.text()
  if (!res.ok) {
    let code = `HTTP_${res.status}`
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? code
    } catch {
      // not JSON: the status is the code
    }
    throw new ApiError(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status, code)
  }
  return (text ? JSON.parse(text) : undefined) as T
}

/** A short, stable reason for the failure tally: the API code, a network error's code, or the error's name. */
export function reasonOf(err: unknown): string {
  if (err instanceof ApiError) return err.code
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } }
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timeout'
  const code = e?.cause?.code ?? e?.code
  if (code) return String(code)
  // A message of our own (operations.ts): its words, numbers left out, so like failures add up.
  const message = (err as Error)?.message ?? String(err)
  return message.replace(/[0-9a-f]{12,}/g, '<id>').replace(/\d+/g, 'N').slice(0, 80)
}
