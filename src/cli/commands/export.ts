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
import { ExportError, exportLibrary, writeSeratoExport, type ExportRun, type SeratoTagsRun } from '../../djexport/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { callNode, nodeEntries } from '../remote-library.ts'

const FORMATS: readonly DjFormat[] = ['rekordbox', 'traktor', 'serato']
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

function seratoText(r: SeratoTagsRun, dryRun: boolean): string {
  const left = r.written.reduce((n, w) => n + w.leftOut.length, 0)
  const lines = [
    dryRun
      ? `Dry run: would write Serato tags into ${plural(r.files.length, 'MP3')}; nothing changed.`
      : `Wrote Serato tags into ${plural(r.written.length, 'MP3')} (${r.written.reduce((n, w) => n + w.cues, 0)} hot cues, ${r.written.reduce((n, w) => n + w.loops, 0)} loops, ` +
        `${r.written.filter((w) => w.gridRows).length} grids). Each file's bytes changed, its audio did not: the next scan (djcloud scan) records it as a new version of the same track.`,
  ]
  if (r.unchanged) lines.push(`${plural(r.unchanged, 'track')} without cues or grid left as they are.`)
  if (r.notHere) lines.push(`${plural(r.notHere, 'playlist entry', 'playlist entries')} not on this device: not written.`)
  for (const k of r.skipped.slice(0, 20)) lines.push(`  not written: ${k.file}: ${k.reason}`)
  if (left) lines.push(`${plural(left, 'cue')} Serato cannot hold (memory cues, fades, loops past 8): --json lists them.`)
  return lines.join('\n') + '\n'
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export your tracks here (or one playlist) with cues, loops, grids, keys and playlists as rekordbox XML or Traktor NML.',
  usage: 'rekordbox|traktor --out FILE [--playlist NAME] [--json] | serato --write-tags [--playlist NAME] [--dry-run] [--json]',
  details:
    'Writes the tracks present on this device (library files, and tracks fetched by "djcloud pull") with their\n' +
    'hot cues, memory cues, loops, beat grid (the DJ\'s grid, else djcloud\'s analysis), key, rating, colour,\n' +
    'comment and play count, and the playlists ("Folder › Sub › Playlist" becomes folders). With --playlist, only\n' +
    'that playlist and its tracks. rekordbox: File > Import > rekordbox xml (Preferences > View > rekordbox xml);\n' +
    'Traktor: File > Import Collection. The file is replaced only once it is written whole.\n' +
    'serato --write-tags: the hot cues, saved loops, grid and colour are written into the MP3 files themselves\n' +
    '(Serato Markers2, Markers_ and BeatGrid tags; other tags and the audio untouched). docs/serato.md\n' +
    'Needs the node of this home running (djcloud serve). docs/djimport.md',
  options: {
    'write-tags': { type: 'boolean', description: 'serato: write the tags into the audio files (their bytes change)' },
    'dry-run': { type: 'boolean', description: 'serato: list the files that would be written, change nothing' },
    out: { type: 'string', value: 'FILE', description: 'the file to write (replaced whole, or left as it was)' },
    playlist: { type: 'string', value: 'NAME', description: 'only this playlist and its tracks' },
    'boot-volume': { type: 'string', value: 'NAME', description: 'Traktor: the volume name of paths outside /Volumes (default "Macintosh HD")' },
    json: { type: 'boolean', description: 'print what was written (and left out) as JSON' },
  },
  args: [1, 1],
  async run({ values, positionals, stdout, stderr, env }) {
    const [format] = positionals as [string]
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`"${format}" is not a format to export (one of: ${FORMATS.join(', ')})`)
    if (format === 'serato') return exportSerato(values, stdout, env)
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
        entries: nodeEntries(node, token),
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

/** export serato: the tags written into the files, only when asked for in so many words. */
async function exportSerato(values: Record<string, unknown>, stdout: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Promise<void> {
  if (values['write-tags'] !== true) {
    throw new UsageError('serato is exported into the audio files themselves: give --write-tags (each MP3\'s bytes change, its audio does not)')
  }
  if (values.out !== undefined) throw new UsageError('serato writes into the audio files: no --out')
  const home = resolveHome(values.home as string | undefined, env)
  const node = await runningNode(home)
  if (!node) throw new Error('no node runs on this home: start it with "djcloud serve" (it merges cue points, notes and playlists)')
  const token = (await readApiToken(home)) ?? ''
  const dryRun = values['dry-run'] === true
  let run: SeratoTagsRun
  try {
    run = await writeSeratoExport((m, p, b) => callNode(node, token, m, p, b), { dryRun, ...(typeof values.playlist === 'string' ? { playlist: values.playlist } : {}) })
  } catch (err) {
    if (err instanceof ExportError) throw new Error(err.message)
    throw err
  }
  if (values.json) return writeJson(stdout, { format: 'serato', dryRun, ...run })
  stdout.write(seratoText(run, dryRun))
}
