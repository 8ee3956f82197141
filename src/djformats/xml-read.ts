// The streaming XML front end both readers share: bytes in (a string, a
// buffer or any async iterable of chunks, such as a file stream), saxes
// events out to a handler, every failure a DjFormatError with the line.
// saxes expands only the five predefined entities and character references,
// so a document cannot grow itself (no DTD entities).
import { SaxesParser, type SaxesTagPlain } from 'saxes'
import { DjFormatError } from './errors.ts'

export type XmlInput = string | Uint8Array | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>

export interface XmlHandler {
  /** Called for every start tag; attrs as written (entities expanded). */
  open(name: string, attrs: Record<string, string>, line: number): void
  close(name: string, line: number): void
  /** Work the handler's consumer started for the chunk just parsed: awaited before the next chunk is parsed. */
  settle?(): Promise<void> | undefined
}

/**
 * What a reader's onTrack returned and has not finished (ReadOptions.onTrack):
 * settled between chunks, so a consumer that waits (for the node's state of a
 * batch of entries) holds the reading back instead of letting entries pile up.
 */
export class PendingTracks {
  private waiting: Array<Promise<void>> = []

  /** Keeps what onTrack returned (nothing for a consumer that does not wait). */
  add(result: void | Promise<void>): void {
    if (!result) return
    // A parse that fails later in this chunk never settles it: its rejection must not go unhandled.
    result.catch(() => {})
    this.waiting.push(result)
  }

  settle(): Promise<void> | undefined {
    if (this.waiting.length === 0) return undefined
    const all = this.waiting
    this.waiting = []
    return Promise.all(all).then(() => {})
  }
}

export interface XmlDocumentSpec {
  /** What the reader expects, for messages ("a rekordbox XML file"). */
  what: string
  root: string
  /** Other roots, each with the hint given when it is found instead. */
  otherRoots?: Record<string, string>
}

async function* chunksOf(input: XmlInput): AsyncGenerator<string | Uint8Array> {
  if (typeof input === 'string' || input instanceof Uint8Array) yield input
  else yield* input as AsyncIterable<string | Uint8Array>
}

/** Feeds input through saxes into handler; resolves when the root element has closed. */
export async function parseXml(input: XmlInput, spec: XmlDocumentSpec, handler: XmlHandler): Promise<void> {
  const parser = new SaxesParser({ position: true, xmlns: false })
  let rootSeen = false
  let rootClosed = false
  let closing = false
  let depth = 0
  parser.on('error', (err) => {
    // saxes prefixes "line:column: "; keep its message, lead with ours.
    const reason = err.message.replace(/^\d+:\d+:\s*/, '')
    if (closing) throw new DjFormatError('ERR_TRUNCATED', `${spec.what} ends early at line ${parser.line} (${reason}): the file is cut short or incomplete`, parser.line)
    throw new DjFormatError('ERR_NOT_XML', `${spec.what} is not well-formed XML at line ${parser.line}, column ${parser.column}: ${reason}`, parser.line)
  })
  parser.on('opentag', (tag: SaxesTagPlain) => {
    if (!rootSeen) {
      rootSeen = true
      if (tag.name !== spec.root) {
        const hint = spec.otherRoots?.[tag.name]
        throw new DjFormatError('ERR_WRONG_ROOT', `not ${spec.what}: the root element at line ${parser.line} is <${tag.name}>, not <${spec.root}>${hint ? ` (${hint})` : ''}`, parser.line)
      }
    }
    depth++
    handler.open(tag.name, tag.attributes as Record<string, string>, parser.line)
  })
  parser.on('closetag', (tag: SaxesTagPlain) => {
    handler.close(tag.name, parser.line)
    if (--depth === 0) rootClosed = true
  })
  let decoder: TextDecoder | undefined
  let first = true
  for await (const chunk of chunksOf(input)) {
    if (typeof chunk === 'string') {
      parser.write(first ? chunk.replace(/^\uFEFF/, '') : chunk)
    } else {
      if (!decoder) decoder = new TextDecoder(encodingOf(chunk), { fatal: true, ignoreBOM: false })
      parser.write(decode(decoder, chunk, true, spec.what, parser.line))
    }
    first = false
    await handler.settle?.()
  }
  if (decoder) parser.write(decode(decoder, undefined, false, spec.what, parser.line))
  await handler.settle?.()
  closing = true
  if (!rootSeen) throw new DjFormatError('ERR_TRUNCATED', `${spec.what} is empty: no root element`, parser.line)
  parser.close()
  if (!rootClosed) throw new DjFormatError('ERR_TRUNCATED', `${spec.what} ends before </${spec.root}>`, parser.line)
}

function encodingOf(chunk: Uint8Array): string {
  if (chunk[0] === 0xff && chunk[1] === 0xfe) return 'utf-16le'
  if (chunk[0] === 0xfe && chunk[1] === 0xff) return 'utf-16be'
  return 'utf-8'
}

function decode(decoder: TextDecoder, chunk: Uint8Array | undefined, stream: boolean, what: string, line: number): string {
  try {
    return decoder.decode(chunk, { stream })
  } catch {
    throw new DjFormatError('ERR_NOT_XML', `${what} is not UTF-8 text (near line ${line})`, line)
  }
}
