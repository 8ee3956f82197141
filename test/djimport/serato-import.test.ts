// `djcloud import serato PATH` against a real node: Serato tags written into
// real MP3 and FLAC files (as Serato writes them), a _Serato_ folder with
// crates beside the music, the tags read from the library's files, cues on
// djcloud's timeline, crates as playlists; a dry run and a re-import change
// nothing, and the _Serato_ folder given alone reads the same.
import test from 'ava'
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative, parse as parsePath } from 'node:path'
import { promisify } from 'node:util'
import { buildBeatGrid, buildCrate, buildMarkers2, encodeSeratoBase64, writeSeratoTags } from '../../src/serato/index.ts'
import { makeAudio } from '../helpers/audio-fixtures.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { runCliInProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'

const run = promisify(execFile)

interface Plan {
  applied: boolean
  format: string
  tracks: Array<{ entryId: string; sha256: string; method: string; timing?: { offsetMs: number; case?: string }; notes: { set: Record<string, unknown> } }>
  playlists: Array<{ name: string; create: boolean; add: string[] }>
  summary: { changes: number; cuesAdded: number }
}

test('Serato tags and crates land on the node as cues and playlists; dry runs and re-imports change nothing', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const music = join(root, 'music')
  await mkdir(music, { recursive: true })
  const a = await makeAudio(music, 'mp3', { name: 'a.mp3', seconds: 3, frequency: 440, tags: { artist: 'Ana', title: 'Serato Mp3' } })
  await writeSeratoTags(a, {
    cues: [
      { type: 'cue', slot: 0, positionMs: 1500, color: '#e62828', name: 'Intro' },
      { type: 'loop', slot: null, positionMs: 500, lengthMs: 750, name: 'Roll' },
    ],
    grid: [{ positionMs: 25, bpm: 128, beatOfBar: 1 }],
    color: '#993399',
  })
  // A FLAC tagged the way Serato tags FLAC (Vorbis comments holding the base64 envelope).
  const envelope = (name: string, data: Uint8Array) => encodeSeratoBase64(Buffer.concat([Buffer.from(`application/octet-stream\0\0${name}\0`, 'latin1'), data]), true)
  const b = join(music, 'b.flac')
  await run('ffmpeg', [
    '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=550:duration=4', '-metadata', 'title=Serato Flac',
    '-metadata', `SERATO_MARKERS_V2=${envelope('Serato Markers2', buildMarkers2({ cues: [{ index: 2, positionMs: 100, color: '#88cc00', name: '' }], loops: [] }))}`,
    '-metadata', `SERATO_BEATGRID=${envelope('Serato BeatGrid', buildBeatGrid([{ positionS: 0.1, bpm: 120 }]))}`,
    '-threads', '1', b,
  ])
  const plain = await makeAudio(music, 'mp3', { name: 'plain.mp3', seconds: 2, frequency: 660, tags: { title: 'No Serato' } })
  // Crates name files relative to the root of the volume the _Serato_ folder is on (here: the file system root).
  const serato = join(music, '_Serato_')
  await mkdir(join(serato, 'Subcrates'), { recursive: true })
  const onVolume = (p: string) => relative(parsePath(p).root, p)
  await writeFile(join(serato, 'Subcrates', 'Friday.crate'), buildCrate([onVolume(a), onVolume(b), onVolume(plain)]))
  await writeFile(join(serato, 'Subcrates', 'Friday%%Peak.crate'), buildCrate([onVolume(b)]))

  const node = await serveNode(t, home!, ['--no-tracker'])
  const api = node.info.api
  const scan = await runCliInProcess(['scan', music], { DJCLOUD_HOME: home! })
  t.is(scan.code, 0, scan.stderr)
  const { tracks } = (await (await fetch(`${api}/api/library`)).json()) as { tracks: Array<{ sha256: string; audioHash: string; tags: { title?: string } }> }
  const by = (title: string) => tracks.find((x) => x.tags.title === title)!
  const [A, B, P] = [by('Serato Mp3'), by('Serato Flac'), by('No Serato')]
  const cuesOf = async (audio: string) => ((await (await fetch(`${api}/api/cues/${audio}`)).json()) as { cues: Array<Record<string, unknown>> }).cues.map(({ id: _id, ...c }) => c)
  const playlists = async () => ((await (await fetch(`${api}/api/playlists`)).json()) as { playlists: Array<{ name: string; tracks: number }> }).playlists
  const everything = async () => ({ a: await cuesOf(A.audioHash), b: await cuesOf(B.audioHash), playlists: await playlists() })
  const importJson = async (args: string[]): Promise<Plan> => {
    const r = await runCliInProcess(['import', 'serato', ...args, '--json'], { DJCLOUD_HOME: home! })
    if (r.code !== 0) throw new Error(r.stderr)
    return JSON.parse(r.stdout) as Plan
  }

  const before = await everything()
  const dry = await importJson([music, '--dry-run'])
  t.false(dry.applied)
  t.is(dry.format, 'serato')
  t.deepEqual(await everything(), before)

  const done = await importJson([music])
  t.true(done.applied)
  t.deepEqual(done.tracks.map((x) => [x.sha256, x.method]).sort(), [[A.sha256, 'path'], [B.sha256, 'path']].sort())
  const mp3 = done.tracks.find((x) => x.sha256 === A.sha256)!
  t.like(mp3.timing, { case: 'B' })
  t.is(mp3.timing!.offsetMs, -26) // Serato's MP3 positions sit one frame (26.12 ms, to the ms) later
  t.like(mp3.notes.set, { color: '#993399', grid: [{ position: 0.025, bpm: 128, beat: 1 }] })
  // Written on djcloud's timeline, stored on Serato's, imported back onto djcloud's: where they were.
  t.deepEqual(await cuesOf(A.audioHash), [
    { kind: 'memory', position: 0.5, length: 0.75, name: 'Roll' },
    { kind: 'hot', slot: 'A', position: 1.5, name: 'Intro', color: '#e62828' },
  ])
  t.deepEqual(await cuesOf(B.audioHash), [{ kind: 'hot', slot: 'C', position: 0.1, color: '#88cc00' }])
  t.deepEqual(
    (await playlists()).map((p) => [p.name, p.tracks]).sort(),
    [
      ['Friday › Peak', 1],
      ['Friday', 3],
    ],
  )
  t.is(done.playlists.find((p) => p.name === 'Friday')!.add.join(), [A.sha256, B.sha256, P.sha256].join())

  const after = await everything()
  t.is((await importJson([music])).summary.changes, 0)
  t.is((await importJson([serato])).summary.changes, 0) // the _Serato_ folder alone: the same tags and crates
  t.deepEqual(await everything(), after)

  const text = await runCliInProcess(['import', 'serato', join(root, 'nope')], { DJCLOUD_HOME: home! })
  t.is(text.code, 1)
  t.regex(text.stderr, /nope: not a folder/)
})
