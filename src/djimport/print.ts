// An import's result as `djcloud import` prints it: the plan as text or as
// JSON, written as it is read from where the import kept its tracks' plans
// (a spooled plan is read back from its file), so a 20,000-track plan is
// never one string in memory. Here, not in the command, so the benchmark
// prints exactly this (bench/djformats).
import type { DjLibrary } from '../djformats/index.ts'
import type { KeptImportResult } from './run.ts'
import type { TrackPlan } from './plan.ts'
import { textOut, writeJsonWithList } from './stream-out.ts'

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** The notes an import sets, as text: "grid (2 rows), key F minor, rating 4, ...". */
function notesText(n: TrackPlan['notes']['set']): string[] {
  const out: string[] = []
  if (n.grid) out.push(`grid (${plural(n.grid.length, 'row')}, ${n.grid[0]!.bpm} BPM)`)
  if (n.key) out.push(`key ${n.key}`)
  if (n.rating !== undefined) out.push(`rating ${n.rating}`)
  if (n.color) out.push(`colour ${n.color}`)
  if (n.comment) out.push('comment')
  if (n.plays !== undefined) out.push(`plays ${n.plays}`)
  return out
}

/** The plan as text, line by line, the tracks' read from where the import kept them (a spooled plan is never held whole). */
async function* planLines(file: string, result: KeptImportResult, dryRun: boolean): AsyncGenerator<string> {
  const { plan, tracks, methods, applied } = result
  const s = plan.summary
  yield `${plan.format} ${file}: ${plural(s.entries, 'entry', 'entries')}, ${s.matched} matched (${methods.path} by path, ${methods['name-size-duration']} by name+size+duration, ` +
    `${methods['tags-duration']} by tags+duration), ${plan.ambiguous.length} ambiguous, ${plan.unmatched.length} not matched, ${plural(plan.duplicates.length, 'duplicate')}`
  if (tracks.length) yield 'Tracks:'
  for await (const t of tracks.read()) {
    const c = t.cues
    const notes = notesText(t.notes.set)
    const skipped = [...c.notCarried, ...t.notes.notCarried]
    yield `  ${[t.artist, t.title].filter(Boolean).join(' - ') || t.entryId}  [${t.method}, ${t.sha256.slice(0, 12)}]  cues: ${c.add.length} to add, ${c.change.length} to change, ${c.unchanged} unchanged` +
      (notes.length ? `; notes to set: ${notes.join(', ')}` : '') +
      (t.notes.unchanged.length ? `; notes unchanged: ${t.notes.unchanged.join(', ')}` : '') +
      (skipped.length ? `; ${skipped.length} not carried (${skipped.map((x) => `${x.what}: ${x.reason}`).join('; ')})` : '')
    if (t.timing && 'unknown' in t.timing) yield `      timing: not moved: ${t.timing.unknown}`
    else if (t.timing && t.timing.offsetMs !== 0) yield `      timing: positions moved ${t.timing.offsetMs.toFixed(1)} ms onto djcloud's timeline (MP3 header case ${t.timing.case})`
    for (const ch of c.change) yield `      change ${ch.from.kind}${ch.from.slot ? ` ${ch.from.slot}` : ''} at ${ch.from.position} s -> ${ch.to.position} s${ch.to.length ? ` loop ${ch.to.length} s` : ''}`
  }
  if (plan.playlists.length) yield 'Playlists:'
  for (const p of plan.playlists) {
    yield `  ${p.name}  ${p.create ? 'new' : 'exists'}, ${p.add.length} to add, ${p.unchanged} already there${p.skipped.length ? `, ${p.skipped.length} skipped` : ''}`
    for (const k of p.skipped) yield `      skipped ${k.entry}: ${k.reason}`
  }
  if (plan.ambiguous.length) yield 'Ambiguous (not imported; pick by moving or retagging the file):'
  for (const a of plan.ambiguous) yield `  ${a.location ?? a.entryId}: ${a.reason} (${a.candidates.map((c) => c.slice(0, 12)).join(', ')})`
  if (plan.unmatched.length) yield 'Not matched:'
  for (const u of plan.unmatched) yield `  ${u.location ?? u.entryId}: ${u.reason}`
  if (plan.duplicates.length) yield 'Duplicates (the first entry of a recording is the one imported):'
  for (const d of plan.duplicates) yield `  ${d.entryId}: same recording as ${d.duplicateOf}`
  if (plan.historyPlays) yield `Not carried: ${plural(plan.historyPlays, 'history play')} (djcloud keeps no play history).`
  yield dryRun
    ? `Dry run: would add ${s.cuesAdded} and change ${s.cuesChanged} cues, set ${s.notesSet} notes, create ${s.playlistsCreated} playlists and add ${s.playlistEntriesAdded} playlist entries; nothing changed.`
    : applied
      ? `Imported: ${s.cuesAdded} cues added, ${s.cuesChanged} changed, ${s.notesSet} notes set, ${s.playlistsCreated} playlists created, ${s.playlistEntriesAdded} playlist entries added.`
      : 'Nothing to change: djcloud already has everything this file carries.'
}

/**
 * What `djcloud import` prints for an import's result: the text, or with
 * `json` the plan as JSON (`{file, dryRun, applied, ...plan, warnings}`),
 * each written as it is read from where the tracks' plans are kept.
 */
export async function printImport(out: NodeJS.WritableStream, file: string, lib: DjLibrary, result: KeptImportResult, opts: { dryRun: boolean; json: boolean }): Promise<void> {
  const { plan, tracks, applied } = result
  const warned = lib.warnings.length + lib.warningsDropped
  if (opts.json) {
    const { format, ...rest } = plan
    return writeJsonWithList(out, { file, dryRun: opts.dryRun, applied, format, tracks: [], ...rest, warnings: warned }, 'tracks', tracks.read())
  }
  const to = textOut(out)
  if (warned) await to.write(`Read with ${plural(warned, 'warning')} (things read past), first: ${lib.warnings[0]!.line ? `line ${lib.warnings[0]!.line}: ` : ''}${lib.warnings[0]!.message}\n`)
  for await (const line of planLines(file, result, opts.dryRun)) await to.write(line + '\n')
  await to.end()
}

