// `djcloud export serato --write-tags` on a real node with real files: cues
// and a grid imported from rekordbox are written into the MP3 as Serato tags
// (on Serato's timeline), the FLAC is left (not written yet, said so), the
// rescan records the MP3 as a new version of the same track, and importing
// the Serato tags back changes nothing (the round trip is the identity).
// Without --write-tags nothing is written; --dry-run lists and changes nothing.
import test from 'ava'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeAudio } from '../helpers/audio-fixtures.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { runCliInProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { readSeratoFile } from '../../src/serato/index.ts'

const fileUrl = (path: string) => 'file://localhost' + path.split('/').map(encodeURIComponent).join('/')

test('Serato tags written on request: on Serato\'s timeline, a new version of the same track, and back again unchanged', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const music = join(root, 'music')
  await mkdir(music, { recursive: true })
  const a = await makeAudio(music, 'mp3', { name: 'a.mp3', seconds: 3, frequency: 440, tags: { artist: 'Ana', title: 'Alpha' } })
  const b = await makeAudio(music, 'flac', { name: 'b.flac', seconds: 3, frequency: 550, tags: { artist: 'Bo', title: 'Bravo' } })
  const node = await serveNode(t, home!, ['--no-tracker'])
  const api = node.info.api
  const cli = (args: string[]) => runCliInProcess(args, { DJCLOUD_HOME: home! })
  t.is((await cli(['scan', music])).code, 0)

  const xml = join(root, 'rekordbox.xml')
  await writeFile(
    xml,
    `<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0"><PRODUCT Name="rekordbox" Version="6.8.5"/>
<COLLECTION Entries="2">
<TRACK TrackID="1" Name="Alpha" Artist="Ana" Size="${(await stat(a)).size}" TotalTime="3" Colour="0xFF007F" Location="${fileUrl(a)}">
<TEMPO Inizio="0.05" Bpm="128.00" Metro="4/4" Battito="1"/>
<POSITION_MARK Name="Intro" Type="0" Start="1.5" Num="0" Red="204" Green="0" Blue="0"/>
<POSITION_MARK Name="Roll" Type="4" Start="0.5" End="1.25" Num="-1"/>
</TRACK>
<TRACK TrackID="2" Name="Bravo" Artist="Bo" Size="${(await stat(b)).size}" TotalTime="3" Location="${fileUrl(b)}">
<POSITION_MARK Name="" Type="0" Start="0.25" Num="1"/>
</TRACK>
</COLLECTION><PLAYLISTS><NODE Type="0" Name="ROOT" Count="0"></NODE></PLAYLISTS></DJ_PLAYLISTS>
`,
  )
  const imported = await cli(['import', 'rekordbox', xml, '--json'])
  t.is(imported.code, 0, imported.stderr)
  const state = async () => {
    const { tracks } = (await (await fetch(`${api}/api/library`)).json()) as { tracks: Array<{ sha256: string; audioHash: string; missing: boolean; tags: { title?: string } }> }
    const live = tracks.filter((x) => !x.missing)
    const cues = await Promise.all(live.map(async (x) => (await (await fetch(`${api}/api/cues/${x.audioHash}`)).json()) as unknown))
    const notes = await Promise.all(live.map(async (x) => (await (await fetch(`${api}/api/notes/${x.audioHash}`)).json()) as unknown))
    return { audio: live.map((x) => x.audioHash).sort(), cues, notes }
  }
  const before = await state()
  const bytesA = await readFile(a)

  const refused = await cli(['export', 'serato'])
  t.is(refused.code, 2)
  t.regex(refused.stderr, /--write-tags/)
  const dry = await cli(['export', 'serato', '--write-tags', '--dry-run', '--json'])
  t.is(dry.code, 0, dry.stderr)
  t.deepEqual(JSON.parse(dry.stdout).files, [a])
  t.deepEqual(await readFile(a), bytesA)

  const wrote = await cli(['export', 'serato', '--write-tags', '--json'])
  t.is(wrote.code, 0, wrote.stderr)
  const run = JSON.parse(wrote.stdout) as { files: string[]; skipped: Array<{ file: string; reason: string }> }
  t.deepEqual(run.files, [a])
  t.deepEqual(run.skipped, [{ file: b, reason: 'Serato tags are written into MP3 files only for now' }])
  // On Serato's timeline: ffmpeg's MP3 (header case B) is one frame (26 ms) later there.
  const tags = (await readSeratoFile(a))!
  t.deepEqual(tags.cues.map((c) => [c.type, c.slot, c.positionMs, c.lengthMs, c.name]), [
    ['cue', 0, 1526, undefined, 'Intro'],
    ['loop', null, 526, 750, 'Roll'],
  ])
  t.is(Math.round(tags.grid[0]!.positionMs * 1000) / 1000, 76)
  t.is(tags.color, '#ff007f')

  // The library follows: same audio, a new version, nothing lost.
  const scan = await cli(['scan', music, '--json'])
  t.like(JSON.parse(scan.stdout), { newVersions: 1, missing: 0 })
  t.deepEqual(await state(), before)

  // Serato's tags imported back: nothing to change.
  const back = await cli(['import', 'serato', music, '--json'])
  t.is(back.code, 0, back.stderr)
  t.is(JSON.parse(back.stdout).summary.changes, 0)
  t.deepEqual(await state(), before)
})
