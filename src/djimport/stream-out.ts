// Large command output written as it is made, in chunks that wait for the
// stream to take them (a 20,000-track import plan is tens of MB of text,
// ~100 MB as indented JSON): never held whole, and never queued unbounded
// in a pipe's buffer.
import { once } from 'node:events'

/** Chars gathered before one write: small enough to stay a regular heap object that dies young (FILE_CHUNK in djformats/files.ts). */
const CHUNK = 32 * 1024

export interface TextOut {
  /** Adds text; resolves once what is gathered has been taken when a chunk was full. */
  write(text: string): Promise<void>
  /** Writes what is gathered. */
  end(): Promise<void>
}

export function textOut(out: NodeJS.WritableStream): TextOut {
  let pending = ''
  const flush = async () => {
    const chunk = pending
    pending = ''
    if (chunk && !out.write(chunk)) await once(out, 'drain')
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
 * Writes `JSON.stringify(value, null, 2) + '\n'` (as writeJson does), where
 * the top-level member `key` is the array of `items`, read as it is written.
 * The same text, byte for byte, as the whole value would give.
 */
export async function writeJsonWithList(out: NodeJS.WritableStream, value: Record<string, unknown>, key: string, items: AsyncIterable<unknown>): Promise<void> {
  // Strings in JSON hold no raw line break, so this is the member's own place: at indent 2, only top-level keys.
  const marker = `\n  ${JSON.stringify(key)}: []`
  const text = JSON.stringify({ ...value, [key]: [] }, null, 2) + '\n'
  const at = text.indexOf(marker)
  if (at < 0 || !(key in value)) throw new Error(`writeJsonWithList: no top-level "${key}"`)
  const to = textOut(out)
  await to.write(text.slice(0, at + marker.length - 2))
  let first = true
  for await (const item of items) {
    await to.write(`${first ? '[\n' : ',\n'}    ${JSON.stringify(item, null, 2).replace(/\n/g, '\n    ')}`)
    first = false
  }
  await to.write(first ? '[]' : '\n  ]')
  await to.write(text.slice(at + marker.length))
  await to.end()
}
