// What the writers take: a DjLibrary as the readers make it. Checked whole
// before the first byte is written, so a bad model never leaves half a file.
import { COLOR } from './colors.ts'
import { DjFormatError } from './errors.ts'
import { PLAYED_AT, traktorStart } from './history-date.ts'
import { isKeyName } from './keys.ts'
import type { DjLibrary, DjPlaylistNode, DjTrackRef } from './types.ts'

const CUE_TYPES = new Set(['cue', 'loop', 'fade-in', 'fade-out', 'load', 'grid'])
/** Folders nested deeper than this are refused, by readers and writers alike (the writers recurse). */
export const MAX_PLAYLIST_DEPTH = 64

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n)
const wholeIn = (n: unknown, min: number, max: number) => Number.isSafeInteger(n) && (n as number) >= min && (n as number) <= max

function fail(message: string): never {
  throw new DjFormatError('ERR_BAD_MODEL', message)
}

function checkRef(ref: DjTrackRef, at: string): void {
  const ok = ref && (('trackId' in ref && typeof ref.trackId === 'string' && ref.trackId !== '') || ('location' in ref && typeof ref.location === 'string' && ref.location !== ''))
  if (!ok) fail(`${at}: a ref is { trackId } or { location }`)
}

/** `depth`: how many folders hold these nodes. */
function checkNodes(nodes: DjPlaylistNode[], at: string, depth: number): void {
  for (const n of nodes) {
    const here = `${at}/${n.name}`
    if (typeof n.name !== 'string') fail(`${at}: a playlist node has no name`)
    if (n.type === 'folder') {
      if (depth + 1 > MAX_PLAYLIST_DEPTH) fail(`${here}: folders nest deeper than ${MAX_PLAYLIST_DEPTH}`)
      checkNodes(n.children, here, depth + 1)
    }
    else if (n.type === 'playlist') n.entries.forEach((r, i) => checkRef(r, `playlist ${here} entry ${i + 1}`))
    else fail(`${here}: type is "folder" or "playlist"`)
  }
}

export function checkLibrary(lib: DjLibrary): void {
  const ids = new Set<string>()
  for (const t of lib.tracks) {
    const at = `track "${t.id}"`
    if (typeof t.id !== 'string' || t.id === '') fail('a track has no id')
    if (ids.has(t.id)) fail(`${at} is listed twice`)
    ids.add(t.id)
    if (t.location !== undefined && (typeof t.location !== 'string' || t.location === '')) fail(`${at}: location is a path`)
    if (t.size !== undefined && !wholeIn(t.size, 0, Number.MAX_SAFE_INTEGER)) fail(`${at}: size is a whole number of bytes`)
    if (t.durationS !== undefined && !(finite(t.durationS) && t.durationS >= 0)) fail(`${at}: durationS is seconds`)
    if (t.bpm !== undefined && !(finite(t.bpm) && t.bpm > 0)) fail(`${at}: bpm is a positive number`)
    if (t.key !== undefined && !isKeyName(t.key)) fail(`${at}: key "${t.key}" is not a key name such as "A minor"`)
    if (t.rating !== undefined && !wholeIn(t.rating, 0, 5)) fail(`${at}: rating is 0-5`)
    if (t.playCount !== undefined && !wholeIn(t.playCount, 0, Number.MAX_SAFE_INTEGER)) fail(`${at}: playCount is a whole number`)
    if (t.color !== undefined && !COLOR.test(t.color)) fail(`${at}: color is "#rrggbb"`)
    for (const [field, value] of [['title', t.title], ['artist', t.artist], ['album', t.album], ['genre', t.genre], ['comment', t.comment]] as const)
      if (value !== undefined && typeof value !== 'string') fail(`${at}: ${field} is text`)
    t.cues.forEach((c, i) => {
      const where = `${at} cue ${i + 1}`
      if (!CUE_TYPES.has(c.type)) fail(`${where}: type "${c.type}" is not one of ${[...CUE_TYPES].join(', ')}`)
      if (c.slot !== null && !wholeIn(c.slot, 0, 7)) fail(`${where}: slot is 0-7 or null`)
      if (!finite(c.positionMs)) fail(`${where}: positionMs is a number`)
      if (c.type === 'loop' ? !(finite(c.lengthMs) && c.lengthMs >= 0) : c.lengthMs !== undefined) fail(`${where}: a loop, and only a loop, has a lengthMs >= 0`)
      if (c.color !== undefined && !COLOR.test(c.color)) fail(`${where}: color is "#rrggbb"`)
      if (c.name !== undefined && typeof c.name !== 'string') fail(`${where}: name is text`)
    })
    t.grid.forEach((b, i) => {
      const where = `${at} grid row ${i + 1}`
      if (!finite(b.positionMs) || !(finite(b.bpm) && b.bpm > 0) || !wholeIn(b.beatOfBar, 1, 16)) fail(`${where}: { positionMs, bpm > 0, beatOfBar 1-16 }`)
    })
  }
  checkNodes(lib.playlists, '', 0)
  lib.history.forEach((p, i) => {
    const at = `play ${i + 1}`
    checkRef(p.ref, at)
    if (!Array.isArray(p.session) || p.session.length === 0 || !p.session.every((s) => typeof s === 'string')) fail(`${at}: session is the history playlist's path`)
    if (p.playedAt !== undefined && !(PLAYED_AT.test(p.playedAt) && traktorStart(p.playedAt))) fail(`${at}: playedAt is "YYYY-MM-DDTHH:MM:SS"`)
    if (p.deck !== undefined && !wholeIn(p.deck, 0, 255)) fail(`${at}: deck is a whole number`)
    if (p.durationS !== undefined && !(finite(p.durationS) && p.durationS >= 0)) fail(`${at}: durationS is seconds`)
  })
}
