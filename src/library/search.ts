// Search and sort for the library listing. Matching is case- and
// diacritics-insensitive ("beyonce" finds "Beyoncé") and every query token
// must appear somewhere, in any order.
import { basename } from 'node:path'
import type { TrackRecord } from './level-store.ts'

// Letters that Unicode does not decompose into a base letter plus a mark.
const FOLD: Record<string, string> = { ø: 'o', đ: 'd', ł: 'l', ß: 'ss', æ: 'ae', œ: 'oe', þ: 'th', ı: 'i' }

export function foldText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[øđłßæœþı]/g, (c) => FOLD[c] ?? c)
}

export function queryTokens(query: string): string[] {
  return foldText(query).split(/\s+/).filter(Boolean)
}

function haystack(t: TrackRecord): string {
  const names = (t.paths.length ? t.paths : (t.lastPaths ?? [])).map((p) => basename(p))
  return foldText([t.tags.title, t.tags.artist, t.tags.album, t.tags.albumArtist, t.tags.genre, ...names].filter(Boolean).join('\n'))
}

export function matches(t: TrackRecord, tokens: string[]): boolean {
  if (tokens.length === 0) return true
  const h = haystack(t)
  return tokens.every((tok) => h.includes(tok))
}

export const SORT_FIELDS = ['title', 'artist', 'album', 'genre', 'year', 'bpm', 'key', 'duration', 'added', 'format', 'bitrate', 'path'] as const
export type SortField = (typeof SORT_FIELDS)[number]

function sortValue(t: TrackRecord, field: SortField): string | number | undefined {
  switch (field) {
    case 'title':
      return t.tags.title ?? basename(t.paths[0] ?? t.lastPaths?.[0] ?? '')
    case 'artist':
    case 'album':
    case 'genre':
      return t.tags[field]
    // Analysed values first: the tags of a DJ's files are often missing or wrong.
    // Camelot codes sort numerically (1A, 1B, 2A, ...): neighbours mix in key.
    case 'bpm':
      return t.analysis?.bpm ?? t.tags.bpm
    case 'key':
      return t.analysis?.camelot ?? t.tags.key
    case 'year':
    case 'duration':
    case 'bitrate':
      return t.tags[field]
    case 'added':
      return t.added
    case 'format':
      return t.format
    case 'path':
      return t.paths[0] ?? t.lastPaths?.[0]
  }
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true })

/** Sorts in place; tracks without the field go last whatever the direction. */
export function sortTracks(tracks: TrackRecord[], field: SortField, reverse = false): TrackRecord[] {
  const dir = reverse ? -1 : 1
  return tracks.sort((a, b) => {
    const va = sortValue(a, field)
    const vb = sortValue(b, field)
    if (va === undefined || vb === undefined) {
      if (va === vb) return collator.compare(a.sha256, b.sha256)
      return va === undefined ? 1 : -1
    }
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb))
    return c !== 0 ? c * dir : a.sha256 < b.sha256 ? -1 : 1
  })
}
