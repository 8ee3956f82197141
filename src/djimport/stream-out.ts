// A large import plan written as it is read (a 20,000-track plan is tens of
// MB of text, ~100 MB as indented JSON): in chunks that wait for the stream
// to take them, never held whole and never queued unbounded in a pipe's or
// a socket's buffer.
import { once } from 'node:events'

/** Chars gathered before one write: small enough to stay a regular heap object that dies young (FILE_CHUNK in djformats/files.ts). */
const CHUNK = 32 * 1024

export interface TextOut {
  /** Adds text; resolves once what is gathered has been taken when a chunk was full. */
  write(text: string): Promise<void>
  /** Writes what is gathered. */
  end(): Promise<void>
}

/** Thrown when the stream goes away before all is written (a client that hung up): nothing waits for a 'drain' that never comes. */
export class OutputClosedError extends Error {
  override name = 'OutputClosedError'
  readonly code = 'ERR_OUTPUT_CLOSED'
}

export function textOut(out: NodeJS.WritableStream): TextOut {
  let pending = ''
  const closed = () => (out as { destroyed?: boolean }).destroyed === true
  const flush = async () => {
    const chunk = pending
    pending = ''
    if (!chunk) return
    if (closed()) throw new OutputClosedError('the output closed before the plan was written')
    if (out.write(chunk)) return
    const gone = new AbortController()
    try {
      await Promise.race([once(out, 'drain', { signal: gone.signal }), once(out, 'close', { signal: gone.signal })])
    } finally {
      gone.abort()
    }
    if (closed()) throw new OutputClosedError('the output closed before the plan was written')
  }
  return {
    async write(text) {
      pending += text
      if (pending.length >= CHUNK) await flush()
    },
    end: flush,
  }
}

/**
 * Writes `JSON.stringify(value, null, 2) + '\n'` (as writeJson does), or with
 * `compact` `JSON.stringify(value)` (as sendJson does), where the top-level
 * member `key` is the array of `items`, read as it is written. The same
 * text, byte for byte, as the whole value would give.
 */
export async function writeJsonWithList(
  out: NodeJS.WritableStream,
  value: Record<string, unknown>,
  key: string,
  items: AsyncIterable<unknown>,
  opts: { compact?: boolean } = {},
): Promise<void> {
  const keys = Object.keys(value)
  const at = keys.indexOf(key)
  if (at < 0) throw new Error(`writeJsonWithList: no top-level "${key}"`)
  const indent = opts.compact ? undefined : 2
  const part = (names: string[]) => JSON.stringify(Object.fromEntries(names.map((k) => [k, value[k]])), null, indent)
  // The members before and after `key`, each as JSON.stringify writes them, joined around the list.
  const before = part(keys.slice(0, at))
  const after = part(keys.slice(at + 1))
  const nl = indent ? '\n' : ''
  const pad = indent ? '  ' : ''
  const open = before === '{}' ? `{${nl}${pad}` : `${before.slice(0, -1 - nl.length)},${nl}${pad}`
  const close = after === '{}' ? `${nl}}` : `,${after.slice(1)}`
  const to = textOut(out)
  await to.write(`${open}${JSON.stringify(key)}:${indent ? ' ' : ''}`)
  let first = true
  for await (const item of items) {
    const text = indent ? JSON.stringify(item, null, indent).replace(/\n/g, '\n    ') : JSON.stringify(item)
    await to.write(`${first ? '[' : ','}${nl}${pad}${pad}${text}`)
    first = false
  }
  await to.write(first ? '[]' : `${nl}${pad}]`)
  await to.write(close + nl)
  await to.end()
}
