// djcloud export rekordbox|traktor --out FILE: the tracks present on this
// device (or one playlist's, e.g. a pulled gig playlist) with their cues,
// loops, grids, keys, notes and the playlists, written as rekordbox XML or
// Traktor NML for the DJ's other software. Reads through the running node
// (it merges every own device's cues, notes and playlists); the file is
// written beside the target and renamed over it, so a failure keeps the old one.
import { join } from 'node:path'
import { resolveHome } from '../../home.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { cachePaths } from '../../swarm/index.ts'
import type { DjFormat } from '../../djformats/index.ts'
import { ExportError, exportLibrary, type ExportRun } from '../../djexport/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { callNode } from '../remote-library.ts'

const FORMATS: readonly DjFormat[] = ['rekordbox', 'traktor']
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

function summaryText(format: DjFormat, out: string, r: ExportRun): string {
  const s = r.summary
  const written = s.tracks - r.writerSkipped.filter((x) => x.what.startsWith('track ')).length
  const lines = [
    `Wrote ${format === 'rekordbox' ? 'rekordbox XML' : 'Traktor NML'} ${out}: ${plural(written, 'track')}, ${plural(s.cues, 'cue')}, ${plural(s.loops, 'loop')}, ` +
      `${plural(s.grids, 'grid')} (${s.userGrids} the DJ's, ${s.grids - s.userGrids} from the analysis), ${plural(s.keys, 'key')}, ` +
      `${s.notes} with rating/colour/comment/plays, ${plural(s.playlists, 'playlist')} (${plural(s.playlistEntries, 'entry', 'entries')}).`,
  ]
  if (r.skipped.length) {
    lines.push(`Left out of playlists: ${plural(r.skipped.length, 'entry', 'entries')} (not on this device: pull the playlist first with "djcloud pull").`)
    for (const k of r.skipped.slice(0, 20)) lines.push(`  ${k.playlist}: ${k.sha256?.slice(0, 12) ?? '?'}: ${k.reason}`)
    if (r.skipped.length > 20) lines.push(`  ... and ${r.skipped.length - 20} more (--json lists them all)`)
  }
  for (const k of r.writerSkipped.slice(0, 20)) lines.push(`  left out: ${k.what}: ${k.reason}`)
  return lines.join('\n') + '\n'
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export your tracks here (or one playlist) with cues, loops, grids, keys and playlists as rekordbox XML or Traktor NML.',
  usage: 'rekordbox|traktor --out FILE [--playlist NAME] [--json]',
  details:
    'Writes the tracks present on this device (library files, and tracks fetched by "djcloud pull") with their\n' +
    'hot cues, memory cues, loops, beat grid (the DJ\'s grid, else djcloud\'s analysis), key, rating, colour,\n' +
    'comment and play count, and the playlists ("Folder › Sub › Playlist" becomes folders). With --playlist, only\n' +
    'that playlist and its tracks. rekordbox: File > Import > rekordbox xml (Preferences > View > rekordbox xml);\n' +
    'Traktor: File > Import Collection. The file is replaced only once it is written whole.\n' +
    'Needs the node of this home running (djcloud serve). docs/djimport.md',
  options: {
    out: { type: 'string', value: 'FILE', description: 'the file to write (replaced whole, or left as it was)' },
    playlist: { type: 'string', value: 'NAME', description: 'only this playlist and its tracks' },
    'boot-volume': { type: 'string', value: 'NAME', description: 'Traktor: the volume name of paths outside /Volumes (default "Macintosh HD")' },
    json: { type: 'boolean', description: 'print what was written (and left out) as JSON' },
  },
  args: [1, 1],
  async run({ values, positionals, stdout, stderr, env }) {
    const [format] = positionals as [string]
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`"${format}" is not a format to export (one of: ${FORMATS.join(', ')})`)
    const out = values.out
    if (typeof out !== 'string' || !out) throw new UsageError('--out FILE is needed')
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve" (it merges cue points, notes and playlists)')
    const token = (await readApiToken(home)) ?? ''
    const tty = stderr.isTTY === true
    let drawn = false
    const onProgress = (phase: string, done: number, total: number) => {
      if (!tty) return
      stderr.write(`\r\x1b[2K${phase} ${done}/${total}`)
      drawn = true
    }
    let run: ExportRun
    try {
      run = await exportLibrary((m, p, b) => callNode(node, token, m, p, b), out, {
        format: format as DjFormat,
        ...(typeof values.playlist === 'string' ? { playlist: values.playlist } : {}),
        ...(typeof values['boot-volume'] === 'string' ? { bootVolume: values['boot-volume'] } : {}),
        cachePath: (sha) => cachePaths(join(home, 'cache'), sha).final,
        onProgress,
      })
    } catch (err) {
      if (err instanceof ExportError) throw new Error(err.message)
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') throw new Error(`${out}: cannot write there (${code})`)
      throw err
    } finally {
      if (drawn) stderr.write('\r\x1b[2K')
    }
    if (values.json) return writeJson(stdout, { file: out, format, summary: run.summary, skipped: run.skipped, writerSkipped: run.writerSkipped })
    stdout.write(summaryText(format as DjFormat, out, run))
  },
}
