// Recursive directory walk that yields audio files. Symlinked directories
// are followed once: a directory reached again (a symlink loop, or two links
// to one folder) is skipped, so the walk always ends.
import { opendir, stat } from 'node:fs/promises'
import type { Dir, Stats } from 'node:fs'
import { join } from 'node:path'
import { formatOfPath, type AudioFormat } from '../audio-file/index.ts'
import { ScanError } from './errors.ts'

export interface FoundFile {
  kind: 'file'
  path: string
  format: AudioFormat
  stats: Stats
}

/** Something under a root that could not be read; `dir` marks a whole subtree as unknown. */
export interface WalkProblem {
  kind: 'problem'
  path: string
  error: ScanError
  dir: boolean
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message

export async function* walkAudioFiles(roots: string[], signal?: AbortSignal): AsyncGenerator<FoundFile | WalkProblem> {
  const visited = new Set<string>()
  const stack = [...roots].reverse()
  while (stack.length > 0) {
    signal?.throwIfAborted()
    const dir = stack.pop()!
    let dirStats: Stats
    let handle: Dir
    try {
      dirStats = await stat(dir)
      handle = await opendir(dir)
    } catch (err) {
      yield { kind: 'problem', path: dir, dir: true, error: new ScanError('ERR_UNREADABLE', `cannot read folder: ${errCode(err)}`) }
      continue
    }
    const id = `${dirStats.dev}:${dirStats.ino}`
    if (visited.has(id)) {
      await handle.close().catch(() => {})
      continue
    }
    visited.add(id)

    const names: Array<{ name: string; isDir: boolean; isLink: boolean; isFile: boolean }> = []
    try {
      for await (const entry of handle) {
        names.push({ name: entry.name, isDir: entry.isDirectory(), isLink: entry.isSymbolicLink(), isFile: entry.isFile() })
      }
    } catch (err) {
      yield { kind: 'problem', path: dir, dir: true, error: new ScanError('ERR_UNREADABLE', `cannot list folder: ${errCode(err)}`) }
      continue
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const subdirs: string[] = []
    for (const e of names) {
      const path = join(dir, e.name)
      if (e.name.includes('\uFFFD')) {
        yield { kind: 'problem', path, dir: e.isDir, error: new ScanError('ERR_BAD_NAME', 'the name is not valid UTF-8; rename it to scan it') }
        continue
      }
      if (e.isDir) {
        subdirs.push(path)
        continue
      }
      const format = formatOfPath(e.name)
      if (!e.isLink && (!e.isFile || !format)) continue
      let st: Stats
      try {
        st = await stat(path) // follows symlinks
      } catch (err) {
        const code = errCode(err)
        const why = code === 'ELOOP' ? 'symlink loop' : code === 'ENOENT' ? 'broken symlink' : `cannot stat: ${code}`
        if (format || code === 'ELOOP') yield { kind: 'problem', path, dir: false, error: new ScanError('ERR_UNREADABLE', why) }
        continue
      }
      if (st.isDirectory()) subdirs.push(path)
      else if (st.isFile() && format) yield { kind: 'file', path, format, stats: st }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!)
  }
}
