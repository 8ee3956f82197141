// Synthetic library entries for the manifest benchmark: what a device's
// library manifest says about a track (src/manifest ManifestTrack), with tags
// as a DJ library has them. Deterministic: the same seed gives the same
// tracks, so manifest sizes are the same on every run and machine.
import { createHash } from 'node:crypto'
import type { ManifestTrack } from '../../src/manifest/index.ts'
import { mulberry32, pick, uniformInt } from '../scan/prng.ts'

const GENRES = ['House', 'Deep House', 'Tech House', 'Techno', 'Minimal', 'Drum & Bass', 'Dub Techno', 'Electro', 'Disco', 'Breaks', 'Ambient', 'Progressive House', 'Trance', 'Garage', 'Afro House']
const WORDS = [
  'Night', 'Drive', 'Sunrise', 'Echo', 'Pulse', 'Fjord', 'Nuit', 'Blanche', 'Groove', 'Wasser', 'Ñandú', 'Zoë', 'Lisboa', 'Kinder', 'Bass', 'Wind',
  'Lights', 'Motion', 'Signal', 'Horizon', 'Velvet', 'Static', 'Orbit', 'Mirage', 'Tide', 'Ember', 'Glass', 'Shadow', 'Neon', 'Atlas', 'Rhythm', 'Dust',
]
const MIXES = ['Original Mix', 'Extended Mix', 'Dub', 'Remix', 'Club Mix', 'Radio Edit', 'Instrumental']
const KEYS = ['A minor', 'C major', 'D minor', 'F major', 'E minor', 'G major', 'B minor', 'D major', 'F# minor', 'A major', 'C# minor', 'E major']
const FORMATS = [
  { format: 'mp3', share: 0.8 },
  { format: 'flac', share: 0.1 },
  { format: 'wav', share: 0.05 },
  { format: 'aiff', share: 0.05 },
] as const
const ARTISTS = 600
const ALBUMS_PER_ARTIST = 4

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** `count` distinct tracks; `seed` picks the library (two seeds share no track). */
export function syntheticTracks(count: number, seed = 1): ManifestTrack[] {
  const random = mulberry32(seed)
  const out: ManifestTrack[] = []
  for (let i = 0; i < count; i++) {
    const a = uniformInt(random, 1, ARTISTS)
    const artist = `${pick(random, WORDS)} ${String.fromCharCode(65 + (a % 26))}. Artist ${a}`
    const album = `${pick(random, WORDS)} ${pick(random, WORDS)} EP ${uniformInt(random, 1, ALBUMS_PER_ARTIST)}`
    const r = random()
    let acc = 0
    const format = FORMATS.find((f) => (acc += f.share) > r)?.format ?? 'mp3'
    const duration = uniformInt(random, 150_000, 540_000) / 1000
    const lossless = format !== 'mp3'
    out.push({
      sha256: sha256(`bench-manifest/${seed}/file/${i}`),
      audioHash: sha256(`bench-manifest/${seed}/audio/${i}`),
      size: lossless ? Math.round(duration * 176_400 * (format === 'flac' ? 0.6 : 1)) : Math.round(duration * 40_000) + uniformInt(random, 2_000, 200_000),
      format,
      tags: {
        title: `${pick(random, WORDS)} ${pick(random, WORDS)} (${pick(random, MIXES)})`,
        artist,
        album,
        ...(random() < 0.3 ? { albumArtist: artist } : {}),
        genre: pick(random, GENRES),
        year: uniformInt(random, 1988, 2026),
        trackNo: uniformInt(random, 1, 12),
        duration,
        bitrate: lossless ? 1_411_200 : 320_000,
        sampleRate: 44_100,
        channels: 2,
        bpm: uniformInt(random, 8_000, 17_500) / 100,
        key: pick(random, KEYS),
        ...(random() < 0.7 ? { hasCover: true } : {}),
      },
    })
  }
  return out
}
