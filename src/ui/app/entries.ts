// A library row as the player's queue entry.
import type { Library } from '../logic/index.ts'
import type { PlayEntry } from './types.ts'

export function entryOf(lib: Library, row: number): PlayEntry {
  const holders = lib.holders[row] ?? []
  return {
    sha256: lib.sha256[row]!,
    audioHash: lib.audioHash[row]!,
    title: lib.title[row]!,
    artist: lib.artist[row]!,
    camelot: lib.camelot[row]!,
    duration: lib.duration[row]!,
    holders,
    playable: holders.length === 0 ? false : undefined,
  }
}
