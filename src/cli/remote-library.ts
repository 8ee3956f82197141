// The Library as seen through a running node's local API: while a node owns
// a home's LevelDB, CLI commands for that home take this path.
import type { Library, LibraryStats, ListOptions, ScanSummary, TrackRecord } from '../library/index.ts'
import type { NodeInfo } from '../node/index.ts'
import { jsonEntries, type ApiEntries } from '../djimport/index.ts'

export class NodeApiError extends Error {
  override name = 'NodeApiError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export async function callNode<T>(node: NodeInfo, token: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(node.api + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (err) {
    throw new NodeApiError(0, 'ERR_UNREACHABLE', `the node on this home (pid ${node.pid}) does not answer at ${node.api}: ${(err as Error).message}`)
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } } & T
  if (!res.ok) throw new NodeApiError(res.status, json.error?.code ?? 'ERR_HTTP', json.error?.message ?? `HTTP ${res.status}`)
  return json
}

/** Large GET answers of the node read as they arrive (import and export of a whole library: its listing, cues and notes). */
export function nodeEntries(node: NodeInfo, token: string): ApiEntries {
  return async (path, key, onEntry) => {
    let res: Response
    try {
      res = await fetch(node.api + path, { headers: { authorization: `Bearer ${token}` } })
    } catch (err) {
      throw new NodeApiError(0, 'ERR_UNREACHABLE', `the node on this home (pid ${node.pid}) does not answer at ${node.api}: ${(err as Error).message}`)
    }
    if (!res.ok || !res.body) {
      const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } }
      throw new NodeApiError(res.status, json.error?.code ?? 'ERR_HTTP', json.error?.message ?? `HTTP ${res.status}`)
    }
    await jsonEntries(res.body as unknown as AsyncIterable<Uint8Array>, key, onEntry)
  }
}

export class RemoteLibrary implements Library {
  constructor(
    private readonly node: NodeInfo,
    private readonly token: string,
  ) {}

  async scan(roots: string[]): Promise<ScanSummary> {
    return (await callNode<{ summary: ScanSummary }>(this.node, this.token, 'POST', '/api/scan', roots.length ? { roots } : {})).summary
  }

  async list(opts: ListOptions = {}): Promise<TrackRecord[]> {
    const q = new URLSearchParams()
    if (opts.query) q.set('query', opts.query)
    if (opts.sort) q.set('sort', opts.sort)
    if (opts.reverse) q.set('reverse', 'true')
    if (opts.limit) q.set('limit', String(opts.limit))
    const { tracks } = await callNode<{ tracks: TrackRecord[] }>(this.node, this.token, 'GET', `/api/library?${q}`)
    return opts.includeMissing === false ? tracks.filter((t) => !t.missing) : tracks
  }

  async track(sha256: string): Promise<TrackRecord | undefined> {
    try {
      return (await callNode<{ track: TrackRecord }>(this.node, this.token, 'GET', `/api/tracks/${sha256}`)).track
    } catch (err) {
      if (err instanceof NodeApiError && err.status === 404) return undefined
      throw err
    }
  }

  async stats(): Promise<LibraryStats> {
    return (await callNode<{ stats: LibraryStats }>(this.node, this.token, 'GET', '/api/stats')).stats
  }

  async close(): Promise<void> {}
}
