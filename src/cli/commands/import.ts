// djcloud import rekordbox|traktor FILE | serato PATH: a DJ program's collection matched to
// the union library and merged into cue points and playlists, through the
// running node (it owns the cue registers and playlists and publishes every
// edit). --dry-run prints the plan and changes nothing.
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { resolveHome } from '../../home.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { DjFormatError, readDjFile, type DjFormat, type DjLibrary, type DjTrack } from '../../djformats/index.ts'
import { DURATION_TOLERANCE_S, httpNodeAccess, importLibraryInto, printImport, seratoSource, spoolTrackPlans } from '../../djimport/index.ts'
import { UsageError, type Command } from '../command.ts'
import { callNode, nodeEntries } from '../remote-library.ts'

const FORMATS: readonly DjFormat[] = ['rekordbox', 'traktor', 'serato']

export const importCommand: Command = {
  name: 'import',
  summary: 'Import cue points, loops, grids, notes and playlists from rekordbox XML, Traktor NML or Serato tags and crates, matched to your library.',
  usage: 'rekordbox|traktor FILE | serato PATH [--dry-run] [--json]',
  details:
    'Each entry of the file is matched to a track of the library held by your devices: by its path when the\n' +
    `file is here and scanned, else by file name + size + duration, else by artist + title + duration (±${DURATION_TOLERANCE_S} s).\n` +
    'Entries that match several recordings, or none, are listed and left out. Hot cues A-H, memory cues and\n' +
    'loops become cue points; playlists become playlists named by their folder path ("Folder › Sub › Playlist").\n' +
    'The beat grid, key, rating, colour, comment and play count become the track\'s notes (the grid and key win over\n' +
    'djcloud\'s analysis, which is kept). Nothing djcloud has is removed; importing the same file again changes\n' +
    'nothing. Play history is not carried.\n' +
    'serato PATH: a music folder (and its _Serato_ folder) or a _Serato_ folder: the Serato tags inside the\n' +
    'library\'s files under it are read (hot cues, saved loops, grid, colour), its crates become playlists.\n' +
    'MP3 positions are moved onto djcloud\'s timeline by the file\'s LAME/Xing header (docs/serato.md).\n' +
    'Needs the node of this home running (djcloud serve). docs/djimport.md',
  options: {
    'dry-run': { type: 'boolean', description: 'print the plan and change nothing' },
    json: { type: 'boolean', description: 'print the plan (and whether it was applied) as JSON' },
  },
  args: [2, 2],
  async run({ values, positionals, stdout, stderr, env }) {
    const [format, file] = positionals as [string, string]
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`"${format}" is not a format to import (one of: ${FORMATS.join(', ')})`)
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve" (it keeps and publishes cue points and playlists)')
    const token = (await readApiToken(home)) ?? ''
    const access = httpNodeAccess((m, p, b) => callNode(node, token, m, p, b), nodeEntries(node, token))
    const dryRun = values['dry-run'] === true
    // A progress line on stderr while the writes go out, on a TTY only (piped output and --json stay clean).
    let drawn = false
    let last = 0
    const onProgress = (phase: string, done: number, total: number) => {
      if (stderr.isTTY !== true || (done < total && performance.now() - last < 100)) return
      last = performance.now()
      stderr.write(`\r\x1b[2Kimporting ${phase} ${done}/${total}`)
      drawn = true
    }
    // A rekordbox or Traktor file is read as the import goes: each entry matched and planned as it is read,
    // so a large file's model is never held whole beside the plan. Nothing is written before all of it is read.
    let lib: DjLibrary | undefined
    let result
    // The tracks' plans spooled to a temporary file as they are made, then read from it to be applied
    // and printed: a 20,000-track plan is not held in memory (docs/djimport.md). Removed at the end, on failure too.
    const tracks = spoolTrackPlans(env.TMPDIR || env.TMP || env.TEMP || tmpdir())
    try {
      try {
        const source =
          format === 'serato'
            ? (lib = (await seratoSource(file, await access.library())).lib)
            : { format: format as DjFormat, read: async (onTrack: (t: DjTrack) => void | Promise<void>) => (lib = await readDjFile(file, format as DjFormat, { onTrack })) }
        result = await importLibraryInto(source, access, { exists: existsSync, dryRun, onProgress }, tracks)
      } catch (err) {
        if (err instanceof DjFormatError) throw new Error(`${file}: ${err.message} (${err.code})`)
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && lib === undefined) throw new Error(`${file}: no such file`)
        throw err
      } finally {
        if (drawn) stderr.write('\r\x1b[2K')
      }
      if (!lib) throw new Error(`${file}: not read`)
      await printImport(stdout, file, lib, result, { dryRun, json: values.json === true })
    } finally {
      tracks.close()
    }
  },
}
