// A 20,000-track library with 8 cues a track is read and written in seconds
// and under 200 MB of peak RSS, in a process of its own (scale-child.ts),
// bundled by esbuild as the CLI ships (dist/, no tsx loader: tsx alone adds
// ~35 MB). The time ceilings are generous (two shared cores); the measured
// figures are logged.
import test from 'ava'
import { build } from 'esbuild'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { rekordboxXml, traktorNml, writeDjFile, type DjLibrary, type DjTrack } from '../../src/djformats/index.ts'

const TRACKS = 20_000
const MAX_RSS_MB = 200
/**
 * Read entry by entry with nothing kept (as an import reads): 72-73 MB for
 * this rekordbox XML, 84-88 MB for this NML (its text is two-byte: "Trąck").
 * Read in 256 KiB chunks: 105-107 MB and 116 MB. Each chunk's text was then a
 * large object, promoted when its parse outlasted a scavenge (FILE_CHUNK).
 */
const MAX_ENTRIES_RSS_MB = { rekordbox: 90, traktor: 100 }

function bigLibrary(): DjLibrary {
  const tracks: DjTrack[] = []
  for (let i = 1; i <= TRACKS; i++) {
    tracks.push({
      id: String(i),
      location: i % 2 ? `C:\\Music\\Artist ${i % 700}\\Album ${i % 97}\\${i} Track & Mix #${i}.mp3` : `/Users/dj/Music/Artist ${i % 700}/${i} Trąck (Remix).flac`,
      size: 9_000_000 + i,
      durationS: 200 + (i % 300),
      title: `Track ${i} (Extended Mix)`,
      artist: `Artist ${i % 700}`,
      album: `Album ${i % 97}`,
      genre: 'House',
      bpm: 120 + (i % 20) + 0.25,
      key: ['A minor', 'C major', 'F# minor', 'Db major'][i % 4]!,
      rating: i % 6,
      playCount: i % 40,
      comment: `comment ${i}`,
      grid: [
        { positionMs: 25.5 + (i % 100), bpm: 128, beatOfBar: 1 },
        { positionMs: 60_000.25 + (i % 100), bpm: 129.5, beatOfBar: 1 },
      ],
      cues: Array.from({ length: 8 }, (_, c) =>
        c === 7
          ? { type: 'loop' as const, slot: null, positionMs: 90_000 + c * 1000.125, lengthMs: 1875 }
          : { type: 'cue' as const, slot: c < 6 ? c : null, positionMs: 1000.125 * (c + 1) + i, name: `Cue ${c}`, ...(c < 6 ? { color: '#e62828' } : {}) },
      ),
    })
  }
  return { format: 'rekordbox', tracks, playlists: [{ type: 'folder', name: 'All', children: [{ type: 'playlist', name: 'Everything', entries: tracks.map((t) => ({ trackId: t.id })) }] }], history: [], warnings: [], warningsDropped: 0 }
}

test('20,000 tracks x 8 cues: each format read and written back in seconds, under 200 MB peak RSS; read entry by entry, well under that', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'djformats-scale-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const lib = bigLibrary()
  const files = { rekordbox: join(dir, 'rekordbox.xml'), traktor: join(dir, 'collection.nml') }
  await writeDjFile(files.rekordbox, rekordboxXml(lib))
  await writeDjFile(files.traktor, traktorNml(lib))
  const child = join(dir, 'scale-child.mjs')
  // saxes bundled in; the analysis' decoders (imported lazily, never here) left out.
  await build({ entryPoints: [new URL('./scale-child.ts', import.meta.url).pathname], outfile: child, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['audio-decode', 'essentia.js'], logLevel: 'warning' })
  for (const [format, file] of Object.entries(files)) {
    const { stdout } = await promisify(execFile)(process.execPath, [child, file, `${file}.out`], { maxBuffer: 1 << 20 })
    const m = JSON.parse(stdout) as { format: string; tracks: number; cues: number; readMs: number; writeMs: number; readRssMb: number; maxRssMb: number }
    const mb = (await stat(file)).size / 2 ** 20
    t.log(`${format}: ${mb.toFixed(1)} MB read in ${(m.readMs / 1000).toFixed(2)} s, written in ${(m.writeMs / 1000).toFixed(2)} s, peak RSS ${m.readRssMb.toFixed(0)} MB after reading, ${m.maxRssMb.toFixed(0)} MB after writing`)
    t.is(m.format, format)
    t.is(m.tracks, TRACKS)
    t.is(m.cues, TRACKS * 8)
    t.true(m.maxRssMb < MAX_RSS_MB, `peak RSS ${m.maxRssMb} MB`)
    // Seconds on an idle machine; the ceiling only catches something gone badly wrong.
    t.true(m.readMs < 60_000 && m.writeMs < 60_000)
    const e = JSON.parse((await promisify(execFile)(process.execPath, [child, file, '--entries'], { maxBuffer: 1 << 20 })).stdout) as { tracks: number; peakRssMb: number }
    t.log(`${format}: read entry by entry, nothing kept: peak RSS ${e.peakRssMb.toFixed(0)} MB`)
    t.is(e.tracks, TRACKS)
    t.true(e.peakRssMb < MAX_ENTRIES_RSS_MB[format as 'rekordbox' | 'traktor'], `read entry by entry: peak RSS ${e.peakRssMb} MB`)
  }
})
