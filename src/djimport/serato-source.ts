// What `djcloud import serato PATH` reads: PATH is a music folder (its
// _Serato_ folder, if it has one, gives the crates) or a _Serato_ folder
// (the music is then its parent folder, where Serato keeps it on a drive).
// The tags are read from the union library's files on this device under
// the music folder, and from those the crates name.
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { MAX_WARNINGS, type DjLibrary } from '../djformats/index.ts'
import { readSeratoLibrary } from '../serato/index.ts'
import type { LibraryTrack } from './match.ts'
import { pathKey } from './match.ts'

export interface SeratoSource {
  musicRoot: string
  seratoDir?: string
  lib: DjLibrary
}

export async function seratoSource(path: string, library: readonly LibraryTrack[], opts: { exists?: (p: string) => boolean; platform?: NodeJS.Platform } = {}): Promise<SeratoSource> {
  const exists = opts.exists ?? existsSync
  const platform = opts.platform ?? process.platform
  const at = resolve(path)
  let isDir = false
  try {
    isDir = statSync(at).isDirectory()
  } catch {
    // reported below
  }
  if (!isDir) throw new Error(`${path}: not a folder (give a music folder or a _Serato_ folder)`)
  const isSerato = basename(at).toLowerCase() === '_serato_' || exists(join(at, 'Subcrates'))
  const seratoDir = isSerato ? at : exists(join(at, '_Serato_')) ? join(at, '_Serato_') : undefined
  const musicRoot = isSerato ? dirname(at) : at
  const lib0 = await readSeratoLibrary({ files: [], ...(seratoDir ? { seratoDir } : {}), exists })
  // The library's files under the music folder, and the ones the crates name.
  const rootKey = pathKey(musicRoot, platform)
  const under = (p: string) => {
    const k = pathKey(p, platform)
    return k === rootKey || k.startsWith(rootKey.endsWith(sep) ? rootKey : rootKey + sep)
  }
  const named = new Set<string>()
  const walk = (nodes: DjLibrary['playlists']) => {
    for (const n of nodes) {
      if (n.type === 'folder') walk(n.children)
      else for (const e of n.entries) if ('location' in e) named.add(pathKey(e.location, platform))
    }
  }
  walk(lib0.playlists)
  const files: Parameters<typeof readSeratoLibrary>[0]['files'][number][] = []
  const seen = new Set<string>()
  for (const t of library) {
    for (const p of t.paths) {
      const k = pathKey(p, platform)
      if (seen.has(k) || !(under(p) || named.has(k))) continue
      seen.add(k)
      files.push({ path: p, size: t.size, ...(t.duration !== undefined ? { durationS: t.duration } : {}), ...(t.title ? { title: t.title } : {}), ...(t.artist ? { artist: t.artist } : {}) })
    }
  }
  const lib = await readSeratoLibrary({ files, exists })
  const warnings = [...lib0.warnings, ...lib.warnings]
  const kept = warnings.slice(0, MAX_WARNINGS)
  return {
    musicRoot,
    ...(seratoDir ? { seratoDir } : {}),
    lib: { ...lib, playlists: lib0.playlists, warnings: kept, warningsDropped: lib.warningsDropped + lib0.warningsDropped + warnings.length - kept.length },
  }
}
