// The Library as seen through a running node's local API: while a node owns
// a home's LevelDB, CLI commands for that home take this path.
import { request, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { pinnedTls } from '../player/index.ts'
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

/**
 * One request to the node's local API. Over node:http, not fetch: fetch's
 * first use loads undici and its WebAssembly HTTP parser, ~15 MB of resident
 * memory, and reads a streamed body through web streams; for the import and
 * export of a large library that was a tenth of the process's peak
 * (bench/README.md, djformats). Connections are kept alive (Node's agent).
 * A node serving HTTPS (`serve --tls-cert`) is trusted by its certificate in
 * node.json alone, whatever names it holds: the CLI reaches it on loopback.
 */
function send(node: NodeInfo, token: string, method: string, path: string, body?: unknown): Promise<IncomingMessage> {
  const text = body === undefined ? undefined : JSON.stringify(body)
  return new Promise<IncomingMessage>((resolve, reject) => {
    const url = new URL(node.api + path)
    const options = {
      method,
      headers: { authorization: `Bearer ${token}`, ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }) },
    }
    if (url.protocol === 'https:' && !node.apiCert) return reject(new NodeApiError(0, 'ERR_UNREACHABLE', `the node on this home (pid ${node.pid}) serves HTTPS but node.json holds no certificate (apiCert) to trust`))
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, ...pinnedTls(node.apiCert!) }) : request(url, options)
    req.on('response', resolve)
    req.on('error', (err) => reject(new NodeApiError(0, 'ERR_UNREACHABLE', `the node on this home (pid ${node.pid}) does not answer at ${node.api}: ${err.message}`)))
    req.end(text)
  })
}

/** The whole answer's text (errors while reading it are the node going away). */
async function textOf(node: NodeInfo, res: IncomingMessage): Promise<string> {
  let text = ''
  res.setEncoding('utf8')
  try {
    for await (const chunk of res) text += chunk as string
  } catch (err) {
    throw new NodeApiError(0, 'ERR_UNREACHABLE', `the node on this home (pid ${node.pid}) stopped answering at ${node.api}: ${(err as Error).message}`)
  }
  return text
}

const ok = (res: IncomingMessage) => res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300

async function failure(node: NodeInfo, res: IncomingMessage): Promise<NodeApiError> {
  let json: { error?: { code: string; message: string } } = {}
  try {
    json = JSON.parse(await textOf(node, res)) as typeof json
  } catch {}
  return new NodeApiError(res.statusCode ?? 0, json?.error?.code ?? 'ERR_HTTP', json?.error?.message ?? `HTTP ${res.statusCode}`)
}

export async function callNode<T>(node: NodeInfo, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(node, token, method, path, body)
  if (!ok(res)) throw await failure(node, res)
  const text = await textOf(node, res)
  try {
    return JSON.parse(text) as T
  } catch {
    return {} as T // as a body that is not JSON was read before (an answer with no body)
  }
}

/** An answer of the node as text (an export that is not one JSON value). */
export async function callNodeText(node: NodeInfo, token: string, method: string, path: string): Promise<string> {
  const res = await send(node, token, method, path)
  if (!ok(res)) throw await failure(node, res)
  return textOf(node, res)
}

/** Large GET answers of the node read as they arrive (import and export of a whole library: its listing, cues and notes). */
export function nodeEntries(node: NodeInfo, token: string): ApiEntries {
  return async (path, key, onEntry) => {
    const res = await send(node, token, 'GET', path)
    if (!ok(res)) throw await failure(node, res)
    await jsonEntries(res, key, onEntry)
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
