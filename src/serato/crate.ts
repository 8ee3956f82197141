// Serato crates (`_Serato_/Subcrates/<name>.crate`): a list of tags, each a
// 4-byte ASCII type, a u32 length and a body; `vrsn` (UTF-16BE "1.0/Serato
// ScratchLive Crate") first, column tags (`osrt`, `ovct`), then one `otrk`
// per track holding a `ptrk` with the file's path (UTF-16BE, relative to the
// root of the volume the _Serato_ folder is on). A nested crate's file name
// joins its path with "%%" ("Techno%%Warm up.crate").
import { existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, parse as parsePath, resolve } from 'node:path'
import type { DjPlaylistNode, DjPlaylist, DjFolder } from '../djformats/index.ts'
import { Cursor } from './bytes.ts'
import { SeratoError } from './errors.ts'

export interface SeratoCrate {
  /** The crate's path of names, outermost first. */
  path: string[]
  /** The `ptrk` paths as written (relative to the volume root, "/" separated). */
  tracks: string[]
}

/** A crate file past this is no crate (100,000 tracks of long paths fit in 50 MB). */
export const MAX_CRATE_BYTES = 64 << 20
const MAX_TAGS = 1_000_000

const utf16be = (b: Uint8Array) => {
  // Node decodes UTF-16LE only: swap each pair (an odd last byte is dropped).
  const n = b.length & ~1
  const swapped = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i += 2) {
    swapped[i] = b[i + 1]!
    swapped[i + 1] = b[i]!
  }
  return swapped.toString('utf16le')
}

function* tags(c: Cursor): Generator<{ type: string; body: Uint8Array }> {
  let n = 0
  while (c.left > 0) {
    if (++n > MAX_TAGS) throw new SeratoError('ERR_TOO_LARGE', `${c.what}: more than ${MAX_TAGS} fields`)
    const type = Buffer.from(c.bytes(4, 'field type')).toString('latin1')
    const length = c.u32(`${type} length`)
    yield { type, body: c.bytes(length, `${type} field`) }
  }
}

export function parseCrate(bytes: Uint8Array, fileName: string): SeratoCrate {
  const what = `crate ${fileName}`
  if (bytes.length > MAX_CRATE_BYTES) throw new SeratoError('ERR_TOO_LARGE', `${what}: ${bytes.length} bytes, more than ${MAX_CRATE_BYTES}`)
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== 'vrsn') throw new SeratoError('ERR_NOT_CRATE', `${what}: does not start with a crate's "vrsn" field`)
  const name = fileName.replace(/\.crate$/i, '')
  const out: SeratoCrate = { path: name.split('%%').filter(Boolean), tracks: [] }
  for (const t of tags(new Cursor(bytes, what))) {
    if (t.type !== 'otrk') continue
    for (const inner of tags(new Cursor(t.body, `${what} otrk`))) if (inner.type === 'ptrk') out.tracks.push(utf16be(inner.body).replace(/\0+$/, ''))
  }
  return out
}

/** A crate of these tracks, as Serato writes it (for tests and a later export). */
export function buildCrate(tracks: readonly string[]): Buffer {
  const field = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8)
    head.write(type, 0, 'latin1')
    head.writeUInt32BE(body.length, 4)
    return Buffer.concat([head, body])
  }
  const u16 = (s: string) => Buffer.from(s, 'utf16le').swap16()
  return Buffer.concat([
    field('vrsn', u16('1.0/Serato ScratchLive Crate')),
    field('osrt', Buffer.concat([field('tvcn', u16('song')), field('brev', Buffer.from([0]))])),
    field('ovct', Buffer.concat([field('tvcn', u16('song')), field('tvcw', u16('0'))])),
    ...tracks.map((p) => field('otrk', field('ptrk', u16(p)))),
  ])
}

/**
 * Where a crate's `ptrk` path is on this device: under the volume the
 * _Serato_ folder sits at the root of (an external drive), else under the
 * file system root (the boot volume's _Serato_ in ~/Music). The first that
 * exists; the file-system-root form when neither does.
 */
export function crateTrackPath(seratoDir: string, ptrk: string, exists: (p: string) => boolean = existsSync): string {
  const rel = ptrk.replace(/^[/\\]+/, '')
  const fsRoot = parsePath(resolve(seratoDir)).root
  const candidates = [join(dirname(resolve(seratoDir)), rel), join(fsRoot, rel)]
  return candidates.find(exists) ?? candidates[1]!
}

export interface CrateReadResult {
  playlists: DjPlaylistNode[]
  warnings: string[]
}

/**
 * The crates of a _Serato_ folder as playlist nodes: a crate with sub-crates
 * is a folder of them and, when it holds tracks itself, also a playlist of
 * its own name beside that folder. Entries are `{location}` (the tracks are
 * the files; there is no collection to name them by).
 */
export async function readCrates(seratoDir: string, exists: (p: string) => boolean = existsSync): Promise<CrateReadResult> {
  const dir = join(seratoDir, 'Subcrates')
  const warnings: string[] = []
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.crate')).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { playlists: [], warnings }
    throw err
  }
  const root: DjFolder = { type: 'folder', name: '', children: [] }
  const folderAt = (path: string[]): DjFolder => {
    let node = root
    for (const part of path) {
      let next = node.children.find((c): c is DjFolder => c.type === 'folder' && c.name === part)
      if (!next) node.children.push((next = { type: 'folder', name: part, children: [] }))
      node = next
    }
    return node
  }
  for (const name of names) {
    const file = join(dir, name)
    try {
      if ((await stat(file)).size > MAX_CRATE_BYTES) throw new SeratoError('ERR_TOO_LARGE', `crate ${name}: larger than ${MAX_CRATE_BYTES} bytes`)
      const crate = parseCrate(await readFile(file), basename(file))
      if (crate.path.length === 0) continue
      const playlist: DjPlaylist = { type: 'playlist', name: crate.path.at(-1)!, entries: crate.tracks.map((p) => ({ location: crateTrackPath(seratoDir, p, exists) })) }
      folderAt(crate.path.slice(0, -1)).children.push(playlist)
    } catch (err) {
      if (!(err instanceof SeratoError)) throw err
      warnings.push(err.message)
    }
  }
  return { playlists: root.children, warnings }
}
