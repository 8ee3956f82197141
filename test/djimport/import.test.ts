// `djcloud import` against a real node on a real home, with real audio files
// and a rekordbox XML and a Traktor NML naming them: some by a path that is
// here, some moved (only name + size + duration match), some only by tags,
// one ambiguous, one not here at all. Cues and playlists land where the
// node's API shows them, grids, keys, ratings, colours, comments and play
// counts land in the tracks' notes; a dry run and a second import change nothing.
import test from 'ava'
import { watch } from 'node:fs'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeAudio } from '../helpers/audio-fixtures.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { runCliInProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

interface Listed {
  sha256: string
  audioHash: string
  tags: { title?: string }
}
interface Plan {
  applied: boolean
  dryRun: boolean
  tracks: Array<{ entryId: string; sha256: string; method: string; notes: { set: Record<string, unknown>; unchanged: string[] }; notCarried: Record<string, unknown> }>
  playlists: Array<{ name: string; create: boolean; add: string[]; skipped: Array<{ entry: string; reason: string }> }>
  unmatched: Array<{ entryId: string; reason: string }>
  ambiguous: Array<{ entryId: string; candidates: string[]; reason: string }>
  duplicates: Array<{ entryId: string; duplicateOf: string }>
  historyPlays: number
  summary: { changes: number; cuesAdded: number; cuesChanged: number; playlistsCreated: number; playlistEntriesAdded: number }
}

const xmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
const fileUrl = (path: string) => 'file://localhost' + path.split('/').map(encodeURIComponent).join('/')

/** The command's temporary directory in each test (TMPDIR): the spooled plan goes there, and must be gone after. */
const spools = new Map<string, string>()
async function importCli(home: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCliInProcess(['import', ...args], { DJCLOUD_HOME: home, ...(spools.has(home) ? { TMPDIR: spools.get(home)! } : {}) })
}
/** Names made in dir from now on (created, even if removed since). */
function madeIn(t: { teardown: (fn: () => void) => void }, dir: string): Set<string> {
  const seen = new Set<string>()
  const watcher = watch(dir, (_event, name) => name && seen.add(String(name)))
  t.teardown(() => watcher.close())
  return seen
}
async function importJson(home: string, args: string[]): Promise<Plan> {
  const r = await importCli(home, [...args, '--json'])
  if (r.code !== 0) throw new Error(`djcloud import ${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout) as Plan
}

test('rekordbox and Traktor imports land cues and playlists on the node; a dry run and a re-import change nothing', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const music = join(root, 'music')
  await mkdir(join(music, 'moved'), { recursive: true })
  const a = await makeAudio(music, 'mp3', { name: 'a.mp3', seconds: 3, frequency: 440, tags: { artist: 'Ana', title: 'Path Track' } })
  const b = await makeAudio(join(music, 'moved'), 'flac', { name: 'b.flac', seconds: 4, frequency: 550, tags: { artist: 'Bo', title: 'Moved Track' } })
  await makeAudio(music, 'mp3', { name: 'c-renamed.mp3', seconds: 5, frequency: 660, tags: { artist: 'Cy', title: 'Tagged Track' } })
  await makeAudio(music, 'mp3', { name: 'd1.mp3', seconds: 6, frequency: 770, tags: { artist: 'Dee', title: 'Twin' } })
  await makeAudio(music, 'mp3', { name: 'd2.mp3', seconds: 6, frequency: 880, tags: { artist: 'Dee', title: 'Twin' } })
  const sizeA = (await stat(a)).size
  const sizeB = (await stat(b)).size

  const node = await serveNode(t, home!, ['--no-tracker'])
  const api = node.info.api
  const spool = join(root, 'tmp')
  await mkdir(spool)
  spools.set(home!, spool)
  const spooled = madeIn(t, spool)
  const scan = await runCliInProcess(['scan', music], { DJCLOUD_HOME: home! })
  t.is(scan.code, 0, scan.stderr)
  const { tracks } = (await (await fetch(`${api}/api/library`)).json()) as { tracks: Listed[] }
  const by = (title: string) => tracks.find((x) => x.tags.title === title)!
  const [A, B, C] = [by('Path Track'), by('Moved Track'), by('Tagged Track')]
  const twins = tracks.filter((x) => x.tags.title === 'Twin').map((x) => x.sha256).sort()
  t.is(twins.length, 2)
  const cuesOf = async (track: Listed) => ((await (await fetch(`${api}/api/cues/${track.audioHash}`)).json()) as { cues: unknown[] }).cues
  const playlists = async () => ((await (await fetch(`${api}/api/playlists`)).json()) as { playlists: Array<{ name: string; tracks: number }> }).playlists
  const entriesOf = async (name: string) =>
    ((await (await fetch(`${api}/api/playlists/${encodeURIComponent(name)}`)).json()) as { playlist: { entries: Array<{ ref: { sha256: string } }> } }).playlist.entries.map(
      (e) => e.ref.sha256,
    )
  const notesOf = async (track: Listed) => ((await (await fetch(`${api}/api/notes/${track.audioHash}`)).json()) as { notes: Record<string, unknown> }).notes
  const everything = async () => ({ cues: await Promise.all([A, B, C].map(cuesOf)), notes: await Promise.all([A, B, C].map(notesOf)), playlists: await playlists() })

  // rekordbox: 1 by path, 2 moved, 3 only tags, 4 ambiguous (two recordings with its tags and length), 5 nowhere, 6 the same file as 1.
  const rekordbox = join(root, 'rekordbox.xml')
  await writeFile(
    rekordbox,
    `<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>
  <COLLECTION Entries="6">
    <TRACK TrackID="1" Name="Path Track" Artist="Ana" Kind="MP3 File " Size="${sizeA}" TotalTime="3" AverageBpm="128.00" Rating="204" Colour="0xFF007F" Comments="opener" PlayCount="9" Tonality="Am" Location="${xmlAttr(fileUrl(a))}">
      <TEMPO Inizio="0.025" Bpm="128.00" Metro="4/4" Battito="1"/>
      <POSITION_MARK Name="Intro" Type="0" Start="1.5" Num="0" Red="230" Green="40" Blue="40"/>
      <POSITION_MARK Name="" Type="4" Start="0.5" End="1.25" Num="1" Red="255" Green="140" Blue="0"/>
      <POSITION_MARK Name="" Type="0" Start="2.0" Num="-1"/>
      <POSITION_MARK Name="" Type="4" Start="0.25" End="0.75" Num="-1"/>
      <POSITION_MARK Name="" Type="1" Start="0.1" Num="-1"/>
    </TRACK>
    <TRACK TrackID="2" Name="b" Kind="FLAC File" Size="${sizeB}" TotalTime="4" Location="file://localhost/old/disk/b.flac">
      <POSITION_MARK Name="" Type="0" Start="0.1" Num="2"/>
    </TRACK>
    <TRACK TrackID="3" Name="Tagged Track" Artist="Cy" Kind="MP3 File" Size="1234" TotalTime="5" Location="file://localhost/old/c-original.mp3">
      <POSITION_MARK Name="" Type="0" Start="1" Num="-1"/>
    </TRACK>
    <TRACK TrackID="4" Name="Twin" Artist="Dee" Kind="MP3 File" Size="999" TotalTime="6" Location="file://localhost/old/d.mp3">
      <POSITION_MARK Name="" Type="0" Start="1" Num="0"/>
    </TRACK>
    <TRACK TrackID="5" Name="Nothing" Artist="Nobody" Kind="MP3 File" Size="999" TotalTime="7" Location="file://localhost/old/e.mp3"/>
    <TRACK TrackID="6" Name="Path Track (again)" Kind="MP3 File" Size="${sizeA}" TotalTime="3" Location="${xmlAttr(fileUrl(a))}">
      <POSITION_MARK Name="" Type="0" Start="2.5" Num="5"/>
    </TRACK>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="2">
      <NODE Type="0" Name="Sets" Count="1">
        <NODE Type="0" Name="2026" Count="1">
          <NODE Name="Friday" Type="1" KeyType="0" Entries="6">
            <TRACK Key="1"/><TRACK Key="2"/><TRACK Key="3"/><TRACK Key="4"/><TRACK Key="5"/><TRACK Key="6"/>
          </NODE>
        </NODE>
      </NODE>
      <NODE Name="Warmup/Techno" Type="1" KeyType="0" Entries="1"><TRACK Key="2"/></NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
`,
  )

  // Traktor (paths on a Mac's volume, not here): a.mp3 by name + size in KiB + duration, c only by tags, one not here.
  // The MP3s are ffmpeg's (an Info frame with a Lavc tag, header case B): Traktor's positions sit one frame
  // (1152 samples at 44.1 kHz, 26 ms to the ms) later than rekordbox's, so these are rekordbox's 1.5 s, 0.5 s and 2.5 s.
  const traktor = join(root, 'collection.nml')
  await writeFile(
    traktor,
    `<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<NML VERSION="19"><HEAD COMPANY="www.native-instruments.com" PROGRAM="Traktor"></HEAD>
<COLLECTION ENTRIES="3">
<ENTRY TITLE="Path Track" ARTIST="Ana"><LOCATION DIR="/:Users/:dj/:Music/:" FILE="a.mp3" VOLUME="Macintosh HD" VOLUMEID="Macintosh HD"></LOCATION>
<INFO PLAYTIME="3" PLAYTIME_FLOAT="3.000000" FILESIZE="${Math.floor(sizeA / 1024)}" PLAYCOUNT="4"></INFO>
<CUE_V2 NAME="Intro" DISPL_ORDER="0" TYPE="0" START="1526.000000" LEN="0.000000" REPEATS="-1" HOTCUE="0"></CUE_V2>
<CUE_V2 NAME="n.n." DISPL_ORDER="0" TYPE="5" START="526.000000" LEN="750.000000" REPEATS="-1" HOTCUE="3"></CUE_V2>
</ENTRY>
<ENTRY TITLE="Tagged Track" ARTIST="Cy"><LOCATION DIR="/:Users/:dj/:Music/:" FILE="c-original.mp3" VOLUME="Macintosh HD" VOLUMEID="Macintosh HD"></LOCATION>
<INFO PLAYTIME="5" FILESIZE="1"></INFO>
<CUE_V2 NAME="Break" DISPL_ORDER="0" TYPE="0" START="2526.000000" LEN="0.000000" REPEATS="-1" HOTCUE="1"></CUE_V2>
</ENTRY>
<ENTRY TITLE="Gone"><LOCATION DIR="/:Sets/:" FILE="gone.mp3" VOLUME="USB" VOLUMEID="USB"></LOCATION><INFO PLAYTIME="100" FILESIZE="100"></INFO></ENTRY>
</COLLECTION>
<PLAYLISTS><NODE TYPE="FOLDER" NAME="$ROOT"><SUBNODES COUNT="2"><NODE TYPE="FOLDER" NAME="Traktor"><SUBNODES COUNT="1"><NODE TYPE="PLAYLIST" NAME="Peak"><PLAYLIST ENTRIES="3" TYPE="LIST" UUID="01"><ENTRY><PRIMARYKEY TYPE="TRACK" KEY="Macintosh HD/:Users/:dj/:Music/:a.mp3"></PRIMARYKEY></ENTRY>
<ENTRY><PRIMARYKEY TYPE="TRACK" KEY="Macintosh HD/:Users/:dj/:Music/:c-original.mp3"></PRIMARYKEY></ENTRY>
<ENTRY><PRIMARYKEY TYPE="TRACK" KEY="USB/:Sets/:gone.mp3"></PRIMARYKEY></ENTRY>
</PLAYLIST></NODE></SUBNODES></NODE><NODE TYPE="SMARTLIST" NAME="Recent"><SMARTLIST UUID="aa"></SMARTLIST></NODE></SUBNODES></NODE></PLAYLISTS>
</NML>
`,
  )

  // A dry run prints the plan and changes nothing.
  const before = await everything()
  t.deepEqual(before, { cues: [[], [], []], notes: [{}, {}, {}], playlists: [] })
  const dry = await importJson(home!, ['rekordbox', rekordbox, '--dry-run'])
  t.true(dry.dryRun)
  t.false(dry.applied)
  t.true(dry.summary.changes > 0)
  const dryText = await importCli(home!, ['traktor', traktor, '--dry-run'])
  t.is(dryText.code, 0, dryText.stderr)
  t.regex(dryText.stdout, /Dry run: would add 3 and change 0 cues, set 1 notes, create 1 playlists and add 2 playlist entries; nothing changed\./)
  t.regex(dryText.stdout, /^Read with 1 warning \(things read past\), first: line \d+: .*SMARTLIST/)
  t.regex(dryText.stdout, /Not matched:\n {2}\/Volumes\/USB\/Sets\/gone\.mp3: /)
  t.deepEqual(await everything(), before, 'the dry runs changed nothing')
  // The tracks' plans went through a spool file in the temp directory, removed after.
  await until(async () => ([...spooled].some((n) => n.startsWith('djcloud-import-')) ? true : undefined), 10_000, 20)
  t.deepEqual(await readdir(spool), [], 'the spooled plan is removed at the end')

  // The rekordbox import.
  const rb = await importJson(home!, ['rekordbox', rekordbox])
  t.true(rb.applied)
  t.deepEqual(
    rb.tracks.map((x) => [x.entryId, x.sha256, x.method]),
    [
      ['1', A.sha256, 'path'],
      ['2', B.sha256, 'name-size-duration'],
      ['3', C.sha256, 'tags-duration'],
    ],
  )
  t.deepEqual(rb.ambiguous.map((x) => [x.entryId, x.candidates]), [['4', twins]])
  t.deepEqual(rb.unmatched.map((x) => x.entryId), ['5'])
  t.deepEqual(rb.duplicates, [{ entryId: '6', duplicateOf: '1', sha256: A.sha256 }])
  const notesA = { grid: [{ position: 0.025, bpm: 128, beat: 1 }], key: 'A minor', rating: 4, color: '#ff007f', comment: 'opener', plays: 9 }
  t.deepEqual(rb.tracks[0]!.notes.set, notesA)
  t.deepEqual(rb.tracks[0]!.notCarried, { bpm: 128 })
  t.deepEqual(await notesOf(A), notesA, 'the grid, key, rating, colour, comment and play count are the track\'s notes')

  const strip = (cues: unknown[]) => (cues as Array<Record<string, unknown>>).map(({ id: _id, ...c }) => c)
  t.deepEqual(strip(await cuesOf(A)), [
    { kind: 'memory', position: 0.25, length: 0.5 },
    { kind: 'hot', slot: 'B', position: 0.5, color: '#ff8c00', length: 0.75 },
    { kind: 'hot', slot: 'A', position: 1.5, name: 'Intro', color: '#e62828' },
    { kind: 'memory', position: 2 },
  ])
  t.deepEqual(strip(await cuesOf(B)), [{ kind: 'hot', slot: 'C', position: 0.1 }])
  t.deepEqual(strip(await cuesOf(C)), [{ kind: 'memory', position: 1 }])
  t.deepEqual(
    (await playlists()).map((p) => [p.name, p.tracks]).sort(),
    [
      ['Sets › 2026 › Friday', 4],
      ['Warmup\u2215Techno', 1],
    ],
  )
  t.deepEqual(await entriesOf('Sets › 2026 › Friday'), [A.sha256, B.sha256, C.sha256, A.sha256])
  t.deepEqual(await entriesOf('Warmup\u2215Techno'), [B.sha256])
  const friday = rb.playlists.find((p) => p.name === 'Sets › 2026 › Friday')!
  t.deepEqual(friday.skipped.map((s) => s.entry), ['4', '5'])
  t.regex(friday.skipped[0]!.reason, /^ambiguous: 2 recordings match by artist, title and duration/)

  // The same file again: nothing to do, nothing done.
  const afterRekordbox = await everything()
  const again = await importJson(home!, ['rekordbox', rekordbox])
  t.false(again.applied)
  t.is(again.summary.changes, 0)
  t.deepEqual(await everything(), afterRekordbox)

  // Traktor on top: A's hot cue A is already there (Traktor has no cue colours: the colour stays), its loop on D is new; C gets hot B.
  const tk = await importJson(home!, ['traktor', traktor])
  t.true(tk.applied)
  t.deepEqual(tk.tracks.map((x) => [x.sha256, x.method]), [
    [A.sha256, 'name-size-duration'],
    [C.sha256, 'tags-duration'],
  ])
  t.deepEqual(tk.summary, { ...tk.summary, cuesAdded: 2, cuesChanged: 0, playlistsCreated: 1, playlistEntriesAdded: 2 })
  t.deepEqual(tk.tracks[0]!.notes, { set: {}, unchanged: ['plays'], notCarried: [] }, 'a play count only goes up (Traktor says 4, djcloud has 9)')
  t.deepEqual(await notesOf(A), notesA)
  t.deepEqual(strip(await cuesOf(A)), [
    { kind: 'memory', position: 0.25, length: 0.5 },
    { kind: 'hot', slot: 'B', position: 0.5, color: '#ff8c00', length: 0.75 },
    { kind: 'hot', slot: 'D', position: 0.5, length: 0.75 },
    { kind: 'hot', slot: 'A', position: 1.5, name: 'Intro', color: '#e62828' },
    { kind: 'memory', position: 2 },
  ])
  t.deepEqual(strip(await cuesOf(C)), [
    { kind: 'memory', position: 1 },
    { kind: 'hot', slot: 'B', position: 2.5, name: 'Break' },
  ])
  t.deepEqual(await entriesOf('Traktor › Peak'), [A.sha256, C.sha256])
  const afterTraktor = await everything()
  t.is((await importJson(home!, ['traktor', traktor])).summary.changes, 0)
  t.is((await importJson(home!, ['rekordbox', rekordbox])).summary.changes, 0)
  t.deepEqual(await everything(), afterTraktor)
  t.deepEqual(await readdir(spool), [], 'no spooled plan left behind')
})

test('import refuses what it cannot read, with the reason, and needs a format it knows', async (t) => {
  const root = await tempDir(t)
  const [home] = await makeHomes(root, ['home-pc'])
  const usage = await importCli(home!, ['engine', join(root, 'x')])
  t.is(usage.code, 2)
  t.regex(usage.stderr, /"engine" is not a format to import/)
  const noNode = await importCli(home!, ['rekordbox', join(root, 'x.xml')])
  t.is(noNode.code, 1)
  t.regex(noNode.stderr, /no node runs on this home/)
  await serveNode(t, home!, ['--no-tracker'])
  const missing = await importCli(home!, ['rekordbox', join(root, 'x.xml')])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /x\.xml: no such file/)
  const nml = join(root, 'wrong.xml')
  await writeFile(nml, '<?xml version="1.0"?><NML VERSION="19"><COLLECTION/></NML>')
  // A file that fails past its first entries (the plans of those already spooled): refused, and its spool removed.
  const spool = join(root, 'tmp')
  await mkdir(spool)
  spools.set(home!, spool)
  const spooled = madeIn(t, spool)
  const cut = join(root, 'cut.xml')
  await writeFile(cut, '<?xml version="1.0"?><DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="1"><TRACK TrackID="1" Name="x" Location="file://localhost/nowhere/x.mp3"></TRACK><TRACK')
  const broken = await importCli(home!, ['rekordbox', cut])
  t.is(broken.code, 1)
  t.regex(broken.stderr, /cut\.xml: .*\(ERR_/)
  const wrong = await importCli(home!, ['rekordbox', nml])
  t.is(wrong.code, 1)
  t.regex(wrong.stderr, /ERR_WRONG_ROOT/)
  await until(async () => ([...spooled].some((n) => n.startsWith('djcloud-import-')) ? true : undefined), 10_000, 20)
  t.deepEqual(await readdir(spool), [], 'a failed import leaves no spooled plan')
  const help = await importCli(home!, ['--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /--dry-run/)
  t.regex(help.stdout, /Folder › Sub › Playlist/)
})
