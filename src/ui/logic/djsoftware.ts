// What the "DJ software" page shows of an import plan (POST /api/import/<format>):
// one summary line, then a line per track and playlist that changes, and the
// entries left out with why. Pure, so test/ui-components checks it.

/** The parts of the node's import plan the page reads. */
export interface ImportPlanView {
  dryRun: boolean
  applied: boolean
  format: string
  warnings: number
  tracks: Array<{
    entryId: string
    artist?: string
    title?: string
    method: string
    cues: { add: unknown[]; change: unknown[]; unchanged: number }
    notes: { set: Record<string, unknown>; unchanged: string[] }
  }>
  playlists: Array<{ name: string; create: boolean; add: string[]; unchanged: number; skipped: Array<{ entry: string; reason: string }> }>
  unmatched: Array<{ entryId: string; location?: string; reason: string }>
  ambiguous: Array<{ entryId: string; location?: string; reason: string }>
  duplicates: Array<{ entryId: string; duplicateOf: string }>
  summary: { entries: number; matched: number; cuesAdded: number; cuesChanged: number; notesSet: number; playlistsCreated: number; playlistEntriesAdded: number; changes: number }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

export function importHeadline(plan: ImportPlanView): string {
  const s = plan.summary
  const what = `${plural(s.cuesAdded, 'cue')} to add, ${s.cuesChanged} to change, ${plural(s.notesSet, 'note')} to set, ${plural(s.playlistsCreated, 'playlist')} to create, ${plural(s.playlistEntriesAdded, 'playlist entry', 'playlist entries')} to add`
  const matched = `${plural(s.entries, 'entry', 'entries')}: ${s.matched} matched, ${plan.ambiguous.length} ambiguous, ${plan.unmatched.length} not matched`
  if (plan.applied) return `Imported. ${matched}; ${what.replace(/ to (add|change|set|create)/g, '')} done.`
  if (s.changes === 0) return `Nothing to change: djcloud already has everything this file carries (${matched}).`
  return `${plan.dryRun ? 'Dry run' : 'Plan'}: ${matched}; ${what}.`
}

/** One line per track or playlist that changes, then what is left out. */
export function importLines(plan: ImportPlanView): string[] {
  const out: string[] = []
  for (const t of plan.tracks) {
    const notes = Object.keys(t.notes.set)
    if (!t.cues.add.length && !t.cues.change.length && !notes.length) continue
    const name = [t.artist, t.title].filter(Boolean).join(' - ') || t.entryId
    out.push(`${name}: ${plural(t.cues.add.length, 'cue')} to add, ${t.cues.change.length} to change${notes.length ? `; ${notes.join(', ')}` : ''}`)
  }
  for (const p of plan.playlists) {
    if (p.create || p.add.length) out.push(`Playlist ${p.name}${p.create ? ' (new)' : ''}: ${plural(p.add.length, 'track')} to add`)
    for (const k of p.skipped) out.push(`Playlist ${p.name}: skipped ${k.entry}: ${k.reason}`)
  }
  for (const a of plan.ambiguous) out.push(`Ambiguous: ${a.location ?? a.entryId}: ${a.reason}`)
  for (const u of plan.unmatched) out.push(`Not matched: ${u.location ?? u.entryId}: ${u.reason}`)
  for (const d of plan.duplicates) out.push(`Duplicate: ${d.entryId} is the same recording as ${d.duplicateOf}`)
  return out
}

/** The file name a download is saved under: the node's Content-Disposition, else a default. */
export function downloadName(contentDisposition: string | null, fallback: string): string {
  const m = /filename="([^"\\/]+)"/.exec(contentDisposition ?? '')
  return m ? m[1]! : fallback
}

/** A recording's notes (GET /api/notes/<audioHash>) as one line under its cues; empty when it has none. */
export function notesLine(notes: {
  grid?: Array<{ position: number; bpm: number; beat: number }>
  key?: string
  rating?: number
  color?: string
  comment?: string
  plays?: number
}): string {
  const parts: string[] = []
  if (notes.grid?.length) {
    const g = notes.grid
    parts.push(`Grid ${g[0]!.bpm.toFixed(2)} BPM from ${g[0]!.position.toFixed(3)} s${g.length > 1 ? ` (${g.length} tempo changes)` : ''} (yours)`)
  }
  if (notes.key) parts.push(`Key ${notes.key} (yours)`)
  if (notes.rating) parts.push('★'.repeat(notes.rating))
  if (notes.plays) parts.push(`${notes.plays} play${notes.plays === 1 ? '' : 's'}`)
  if (notes.comment) parts.push(`“${notes.comment.replace(/\s+/g, ' ').slice(0, 80)}”`)
  return parts.join(' · ')
}
