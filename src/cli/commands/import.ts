// djcloud import rekordbox|traktor FILE | serato PATH: a DJ program's collection matched to
// the union library and merged into cue points and playlists, through the
// running node (it owns the cue registers and playlists and publishes every
// edit). --dry-run prints the plan and changes nothing.
import { existsSync } from 'node:fs'
import { resolveHome } from '../../home.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { DjFormatError, readDjFile, type DjFormat, type DjLibrary, type DjTrack } from '../../djformats/index.ts'
import { DURATION_TOLERANCE_S, httpNodeAccess, importLibrary, seratoSource, type ImportPlan } from '../../djimport/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { callNode, nodeEntries } from '../remote-library.ts'

const FORMATS: readonly DjFormat[] = ['rekordbox', 'traktor', 'serato']

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** The notes an import sets, as text: "grid (2 rows), key F minor, rating 4, ...". */
function notesText(n: ImportPlan['tracks'][number]['notes']['set']): string[] {
  const out: string[] = []
  if (n.grid) out.push(`grid (${plural(n.grid.length, 'row')}, ${n.grid[0]!.bpm} BPM)`)
  if (n.key) out.push(`key ${n.key}`)
  if (n.rating !== undefined) out.push(`rating ${n.rating}`)
  if (n.color) out.push(`colour ${n.color}`)
  if (n.comment) out.push('comment')
  if (n.plays !== undefined) out.push(`plays ${n.plays}`)
  return out
}

function planText(file: string, plan: ImportPlan, dryRun: boolean, applied: boolean): string {
  const s = plan.summary
  const by = (m: string) => plan.tracks.filter((t) => t.method === m).length
  const lines = [
    `${plan.format} ${file}: ${plural(s.entries, 'entry', 'entries')}, ${s.matched} matched (${by('path')} by path, ${by('name-size-duration')} by name+size+duration, ` +
      `${by('tags-duration')} by tags+duration), ${plan.ambiguous.length} ambiguous, ${plan.unmatched.length} not matched, ${plural(plan.duplicates.length, 'duplicate')}`,
  ]
  if (plan.tracks.length) lines.push('Tracks:')
  for (const t of plan.tracks) {
    const c = t.cues
    const notes = notesText(t.notes.set)
    const skipped = [...c.notCarried, ...t.notes.notCarried]
    lines.push(
      `  ${[t.artist, t.title].filter(Boolean).join(' - ') || t.entryId}  [${t.method}, ${t.sha256.slice(0, 12)}]  cues: ${c.add.length} to add, ${c.change.length} to change, ${c.unchanged} unchanged` +
        (notes.length ? `; notes to set: ${notes.join(', ')}` : '') +
        (t.notes.unchanged.length ? `; notes unchanged: ${t.notes.unchanged.join(', ')}` : '') +
        (skipped.length ? `; ${skipped.length} not carried (${skipped.map((x) => `${x.what}: ${x.reason}`).join('; ')})` : ''),
    )
    if (t.timing && 'unknown' in t.timing) lines.push(`      timing: not moved: ${t.timing.unknown}`)
    else if (t.timing && t.timing.offsetMs !== 0) lines.push(`      timing: positions moved ${t.timing.offsetMs.toFixed(1)} ms onto djcloud's timeline (MP3 header case ${t.timing.case})`)
    for (const ch of c.change) lines.push(`      change ${ch.from.kind}${ch.from.slot ? ` ${ch.from.slot}` : ''} at ${ch.from.position} s -> ${ch.to.position} s${ch.to.length ? ` loop ${ch.to.length} s` : ''}`)
  }
  if (plan.playlists.length) lines.push('Playlists:')
  for (const p of plan.playlists) {
    lines.push(`  ${p.name}  ${p.create ? 'new' : 'exists'}, ${p.add.length} to add, ${p.unchanged} already there${p.skipped.length ? `, ${p.skipped.length} skipped` : ''}`)
    for (const k of p.skipped) lines.push(`      skipped ${k.entry}: ${k.reason}`)
  }
  if (plan.ambiguous.length) lines.push('Ambiguous (not imported; pick by moving or retagging the file):')
  for (const a of plan.ambiguous) lines.push(`  ${a.location ?? a.entryId}: ${a.reason} (${a.candidates.map((c) => c.slice(0, 12)).join(', ')})`)
  if (plan.unmatched.length) lines.push('Not matched:')
  for (const u of plan.unmatched) lines.push(`  ${u.location ?? u.entryId}: ${u.reason}`)
  if (plan.duplicates.length) lines.push('Duplicates (the first entry of a recording is the one imported):')
  for (const d of plan.duplicates) lines.push(`  ${d.entryId}: same recording as ${d.duplicateOf}`)
  if (plan.historyPlays) lines.push(`Not carried: ${plural(plan.historyPlays, 'history play')} (djcloud keeps no play history).`)
  lines.push(
    dryRun
      ? `Dry run: would add ${s.cuesAdded} and change ${s.cuesChanged} cues, set ${s.notesSet} notes, create ${s.playlistsCreated} playlists and add ${s.playlistEntriesAdded} playlist entries; nothing changed.`
      : applied
        ? `Imported: ${s.cuesAdded} cues added, ${s.cuesChanged} changed, ${s.notesSet} notes set, ${s.playlistsCreated} playlists created, ${s.playlistEntriesAdded} playlist entries added.`
        : 'Nothing to change: djcloud already has everything this file carries.',
  )
  return lines.join('\n') + '\n'
}

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
    try {
      const source =
        format === 'serato'
          ? (lib = (await seratoSource(file, await access.library())).lib)
          : { format: format as DjFormat, read: async (onTrack: (t: DjTrack) => void) => (lib = await readDjFile(file, format as DjFormat, { onTrack })) }
      result = await importLibrary(source, access, { exists: existsSync, dryRun, onProgress })
    } catch (err) {
      if (err instanceof DjFormatError) throw new Error(`${file}: ${err.message} (${err.code})`)
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && lib === undefined) throw new Error(`${file}: no such file`)
      throw err
    } finally {
      if (drawn) stderr.write('\r\x1b[2K')
    }
    if (!lib) throw new Error(`${file}: not read`)
    const { plan, applied } = result
    if (values.json) return writeJson(stdout, { file, dryRun, applied, ...plan, warnings: lib.warnings.length + lib.warningsDropped })
    const warned = lib.warnings.length + lib.warningsDropped
    if (warned) stdout.write(`Read with ${plural(warned, 'warning')} (things read past), first: ${lib.warnings[0]!.line ? `line ${lib.warnings[0]!.line}: ` : ''}${lib.warnings[0]!.message}\n`)
    stdout.write(planText(file, plan, dryRun, applied))
  },
}
