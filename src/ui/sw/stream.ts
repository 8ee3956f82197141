// /stream/<sha256>?from=page answered from the swarm, as webtorrent's service
// worker does (docs/browser.md "Playing"): the worker asks the pages it controls,
// the requesting one first, over a MessagePort for the track; a page that
// holds the browser device answers with its size and type, then with the
// bytes of each chunk the body pulls. The body is a ReadableStream of
// `chunkBytes` chunks, so a seek far into a track waits for the pieces
// under it, not for the whole track. When no page serves the track the
// request goes to the node, as if there were no worker. No stream byte is
// ever cached here.
import { STREAM_OPEN, pageStreamTrack, parseRange, rangeHeaders, type StreamReply, type StreamRequest } from '../logic/stream.ts'

export interface StreamClient {
  postMessage(message: unknown, transfer: Transferable[]): void
}

export interface StreamDeps {
  /** The pages to ask, in order (the requesting page first). */
  clients(): Promise<readonly StreamClient[]>
  /** The node, when no page serves the track. */
  fetch(request: Request): Promise<Response>
  /** ms a page has to say it serves playback at all (a page without the device never answers). */
  ackMs: number
  /** ms a page that serves playback has to open the track (find holders, its info dict). */
  headMs: number
  /** Bytes asked of the page per read: the body's chunk. */
  chunkBytes: number
}

export const STREAM_DEFAULTS = { ackMs: 500, headMs: 10_000, chunkBytes: 256 * 1024 } as const

/**
 * The answer to a /stream/<sha256>?from=page request, or null for any other
 * (the browser then goes to the node, as without a worker).
 */
export function streamResponse(request: Request, deps: StreamDeps): Promise<Response> | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null
  const sha256 = pageStreamTrack(new URL(request.url))
  if (!sha256) return null
  return answer(request, sha256, deps)
}

async function answer(request: Request, sha256: string, deps: StreamDeps): Promise<Response> {
  for (const client of await deps.clients()) {
    const link = await PageLink.open(client, sha256, deps)
    if (link) return respond(request, link, deps.chunkBytes)
  }
  return deps.fetch(request)
}

function respond(request: Request, link: PageLink, chunkBytes: number): Response {
  const range = parseRange(request.headers.get('range'), link.size)
  const { status, headers } = rangeHeaders(range, link.size, link.mime)
  if (range.kind === 'unsatisfiable' || request.method === 'HEAD' || link.size === 0) {
    link.close()
    return new Response(null, { status, headers })
  }
  const stop = range.kind === 'part' ? range.end + 1 : link.size
  let at = range.kind === 'part' ? range.start : 0
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const want = Math.min(stop, at + chunkBytes) - at
        // The page answers with what it has from `at` on: at least a byte, at most what was asked.
        const bytes = await link.read(at, at + want)
        if (bytes.length === 0 || bytes.length > want) throw new Error(`the page sent ${bytes.length} bytes for ${want}`)
        at += bytes.length
        controller.enqueue(bytes)
        if (at >= stop) {
          link.close()
          controller.close()
        }
      } catch (err) {
        link.close()
        controller.error(err)
      }
    },
    cancel() {
      link.close() // the element seeked or went away: the page stops waiting for those pieces
    },
  })
  return new Response(body, { status, headers })
}

/** One request's conversation with the page serving it. */
class PageLink {
  private next = 0
  private readonly reads = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void }>()
  private closed = false

  private constructor(
    private readonly port: MessagePort,
    readonly size: number,
    readonly mime: string,
  ) {
    port.onmessage = (e: MessageEvent<StreamReply>) => {
      const m = e.data
      if (m.type === 'data') this.settle(m.id)?.resolve(new Uint8Array(m.bytes))
      else if (m.type === 'error') this.settle(m.id)?.reject(new Error(m.message))
      else if (m.type === 'none') this.close() // the page stopped serving playback
    }
  }

  /** Asks `client` for the track: a link once it answers with its head, or null (it does not serve it, or not in time). */
  static open(client: StreamClient, sha256: string, deps: StreamDeps): Promise<PageLink | null> {
    const { port1, port2 } = new MessageChannel()
    return new Promise<PageLink | null>((resolve) => {
      const give = (link: PageLink | null) => {
        clearTimeout(timer)
        if (!link) {
          port1.postMessage({ type: 'close' } satisfies StreamRequest)
          port1.close()
        }
        resolve(link)
      }
      let timer = setTimeout(() => give(null), deps.ackMs)
      port1.onmessage = (e: MessageEvent<StreamReply>) => {
        const m = e.data
        if (m.type === 'ack') {
          clearTimeout(timer)
          timer = setTimeout(() => give(null), deps.headMs)
        } else if (m.type === 'head' && Number.isSafeInteger(m.size) && m.size >= 0 && typeof m.mime === 'string') {
          give(new PageLink(port1, m.size, m.mime))
        } else give(null)
      }
      try {
        client.postMessage({ type: STREAM_OPEN, sha256 }, [port2])
      } catch {
        give(null) // the page went away
      }
    })
  }

  read(start: number, end: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('the stream is closed'))
    const id = this.next++
    return new Promise<Uint8Array>((resolve, reject) => {
      this.reads.set(id, { resolve, reject })
      this.port.postMessage({ type: 'read', id, start, end } satisfies StreamRequest)
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.port.postMessage({ type: 'close' } satisfies StreamRequest)
    this.port.close()
    for (const r of this.reads.values()) r.reject(new Error('the stream is closed'))
    this.reads.clear()
  }

  private settle(id: number) {
    const r = this.reads.get(id)
    this.reads.delete(id)
    return r
  }
}
