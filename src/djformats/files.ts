// Files: which format a file is (by its root element), reading one as a
// stream, and writing one so that an existing file is replaced only by a
// complete new one (a temporary file beside it, renamed over it).
import { createReadStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { DjFormatError } from './errors.ts'
import { readRekordbox } from './rekordbox-read.ts'
import { readTraktor } from './traktor-read.ts'
import type { DjFormat, DjLibrary, ReadOptions } from './types.ts'

/**
 * Bytes read, and text gathered before a write, at once: 32 KiB. A chunk's
 * text stays under V8's largest regular heap object (128 KiB, a two-byte
 * string of 64 Ki characters included), so it dies young with the parse's
 * other garbage. At 256 KiB each chunk's text was a large object, promoted
 * to the old generation whenever the parse of its chunk outlasted a
 * scavenge and kept there until a full GC: a saxes parse of a 25 MB file
 * alone peaked at 103 MB instead of 62-69 MB, an import at 173-185 MB
 * instead of 148-158 MB (bench/README.md, djformats).
 */
export const FILE_CHUNK = 32 * 1024

/** The format of a document from its first bytes (the root element's name), or null. */
export function detectFormat(head: string | Uint8Array): DjFormat | null {
  const utf16 = typeof head !== 'string' && head[0] === 0xff && head[1] === 0xfe
  const text = typeof head === 'string' ? head : new TextDecoder(utf16 ? 'utf-16le' : 'utf-8').decode(head)
  // Skip the declaration, comments, processing instructions and a DOCTYPE.
  const m = /^\uFEFF?\s*(?:(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*<([A-Za-z_][\w.-]*)/.exec(text)
  if (m?.[1] === 'DJ_PLAYLISTS') return 'rekordbox'
  if (m?.[1] === 'NML') return 'traktor'
  return null
}

/** Reads a rekordbox XML or Traktor NML file, whichever it is, streaming it from disk. */
export async function readDjFile(path: string, format?: DjFormat, options: ReadOptions = {}): Promise<DjLibrary> {
  let which = format
  if (!which) {
    const fh = await open(path, 'r')
    try {
      const head = Buffer.alloc(4096)
      const { bytesRead } = await fh.read(head, 0, head.length, 0)
      which = detectFormat(head.subarray(0, bytesRead)) ?? undefined
    } finally {
      await fh.close()
    }
    if (!which) throw new DjFormatError('ERR_WRONG_ROOT', `${basename(path)} is neither a rekordbox XML (<DJ_PLAYLISTS>) nor a Traktor NML (<NML>) file`)
  }
  const stream = createReadStream(path, { highWaterMark: FILE_CHUNK })
  try {
    return await (which === 'rekordbox' ? readRekordbox(stream, options) : readTraktor(stream, options))
  } finally {
    stream.destroy()
  }
}

/** Writes chunks (from rekordboxXml or traktorNml) to path: a temporary file beside it, flushed, then renamed over it. */
export async function writeDjFile(path: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  const fh = await open(tmp, 'wx')
  try {
    let buffered = ''
    for await (const chunk of chunks) {
      buffered += chunk
      if (buffered.length >= FILE_CHUNK) {
        await fh.write(buffered)
        buffered = ''
      }
    }
    if (buffered) await fh.write(buffered)
    await fh.sync()
    await fh.close()
    await rename(tmp, path)
  } catch (err) {
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
}
