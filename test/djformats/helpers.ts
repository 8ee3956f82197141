import type { DjLibrary } from '../../src/djformats/index.ts'

/** What a round trip must keep: everything but the warnings and the product line. */
export const kept = (lib: DjLibrary) => ({ tracks: lib.tracks, playlists: lib.playlists, history: lib.history })

export const text = (chunks: Iterable<string>) => [...chunks].join('')

/** The bytes of a text, fed in pieces of `size` bytes (splitting multi-byte characters). */
export async function* inPieces(s: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(s)
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}
