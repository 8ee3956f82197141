// Bad input gets a DjFormatError with a stable code and a one-line message
// saying what is wrong and where; nothing else escapes, and a failed write
// leaves the file it was replacing as it was.
import test from 'ava'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DjFormatError, readDjFile, readRekordbox, readTraktor, rekordboxXml, traktorNml, writeDjFile, type DjLibrary, type DjFormatErrorCode } from '../../src/djformats/index.ts'
import { REKORDBOX_XML, TRAKTOR_NML } from './fixtures.ts'

async function refusal(p: Promise<unknown>): Promise<DjFormatError> {
  try {
    await p
  } catch (err) {
    if (err instanceof DjFormatError) return err
    throw err
  }
  throw new Error('accepted')
}

const lineOf = (doc: string, needle: string) => doc.split('\n').findIndex((l) => l.includes(needle)) + 1

test('a file cut short anywhere is refused as truncated, never read in part', async (t) => {
  for (const [doc, read, root] of [
    [REKORDBOX_XML, readRekordbox, '</DJ_PLAYLISTS>'],
    [TRAKTOR_NML, readTraktor, '</NML>'],
  ] as const) {
    const end = doc.lastIndexOf(root)
    const codes = new Set<DjFormatErrorCode>()
    for (let cut = 0; cut < end + root.length - 1; cut += 13) {
      const err = await refusal(read(doc.slice(0, cut)))
      codes.add(err.code)
      t.false(err.message.includes('\n'), 'one line')
    }
    t.deepEqual([...codes], ['ERR_TRUNCATED'])
  }
  const cut = await refusal(readRekordbox(REKORDBOX_XML.slice(0, REKORDBOX_XML.indexOf('<PLAYLISTS>'))))
  t.is(cut.code, 'ERR_TRUNCATED')
  t.regex(cut.message, /^rekordbox XML ends early at line \d+/)
  t.is((await refusal(readRekordbox(''))).code, 'ERR_TRUNCATED')
})

test('the wrong document is refused by its root, with a hint when it is the other format', async (t) => {
  const nml = await refusal(readRekordbox(TRAKTOR_NML))
  t.is(nml.code, 'ERR_WRONG_ROOT')
  t.is(nml.message, 'not rekordbox XML: the root element at line 2 is <NML>, not <DJ_PLAYLISTS> (this is a Traktor NML file)')
  t.is(nml.line, 2)
  const rb = await refusal(readTraktor(REKORDBOX_XML))
  t.is(rb.code, 'ERR_WRONG_ROOT')
  t.regex(rb.message, /this is a rekordbox XML file/)
  const html = await refusal(readRekordbox('<!DOCTYPE html>\n<html><body>hi</body></html>'))
  t.is(html.code, 'ERR_WRONG_ROOT')
  t.regex(html.message, /<html>/)
})

test('not XML at all, not UTF-8, or entity tricks: ERR_NOT_XML with the line', async (t) => {
  const plain = await refusal(readRekordbox('TrackID,Name\n1,Intro\n'))
  t.is(plain.code, 'ERR_NOT_XML')
  const broken = await refusal(readRekordbox(REKORDBOX_XML.replace('<TEMPO Inizio="60.025"', '<TEMPO Inizio="60.025" Bpm')))
  t.is(broken.code, 'ERR_NOT_XML')
  t.is(broken.line, lineOf(REKORDBOX_XML, 'Inizio="60.025"'))
  const latin1 = Buffer.from(REKORDBOX_XML.replace('Warm up', 'Warm \u00e9t\u00e9'), 'latin1')
  const notUtf8 = await refusal(readRekordbox(latin1))
  t.is(notUtf8.code, 'ERR_NOT_XML')
  t.regex(notUtf8.message, /not UTF-8/)
  const bomb = '<?xml version="1.0"?>\n<!DOCTYPE DJ_PLAYLISTS [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<DJ_PLAYLISTS><PRODUCT Name="&b;"/></DJ_PLAYLISTS>'
  t.is((await refusal(readRekordbox(bomb))).code, 'ERR_NOT_XML')
})

test('a bad number names the element, attribute, value and line', async (t) => {
  const bpm = await refusal(readRekordbox(REKORDBOX_XML.replace('AverageBpm="124.50"', 'AverageBpm="12O.5"')))
  t.is(bpm.code, 'ERR_BAD_VALUE')
  t.is(bpm.message, `rekordbox XML line ${lineOf(REKORDBOX_XML, 'AverageBpm="124.50"')}: TRACK AverageBpm="12O.5" is not a number`)
  const start = await refusal(readRekordbox(REKORDBOX_XML.replace('Start="64.025"', 'Start="1:04"')))
  t.is(start.code, 'ERR_BAD_VALUE')
  t.regex(start.message, /POSITION_MARK Start="1:04" is not a number/)
  const rating = await refusal(readRekordbox(REKORDBOX_XML.replace('Rating="51"', 'Rating="300"')))
  t.regex(rating.message, /TRACK Rating="300" is not at most 255/)
  const cue = await refusal(readTraktor(TRAKTOR_NML.replace('START="310.000000"', 'START="abc"')))
  t.is(cue.code, 'ERR_BAD_VALUE')
  t.is(cue.message, `Traktor NML line ${lineOf(TRAKTOR_NML, 'START="310.000000"')}: CUE_V2 START="abc" is not a number`)
  const key = await refusal(readTraktor(TRAKTOR_NML.replace('<MUSICAL_KEY VALUE="0">', '<MUSICAL_KEY VALUE="0.5">')))
  t.regex(key.message, /MUSICAL_KEY VALUE="0.5" is not a whole number/)
  const multiline = await refusal(readRekordbox(REKORDBOX_XML.replace('Size="52000000"', 'Size="52&#10;000"')))
  t.is(multiline.message, `rekordbox XML line ${lineOf(REKORDBOX_XML, 'Size="52000000"')}: TRACK Size="52\\n000" is not a number`, 'still one line')
  // A decimal comma (localised tools) and empty attributes are read, not refused.
  const comma = await readRekordbox(REKORDBOX_XML.replace('AverageBpm="124.50"', 'AverageBpm="124,50"').replace('Rating="255"', 'Rating=""'))
  const third = comma.tracks.find((x) => x.id === '3')!
  t.is(third.bpm, 124.5)
  t.is(third.rating, undefined)
})

test('two entries with one id are refused: a playlist could not say which', async (t) => {
  const dup = await refusal(readRekordbox(REKORDBOX_XML.replace('TrackID="3"', 'TrackID="2"')))
  t.is(dup.code, 'ERR_DUPLICATE')
  t.is(dup.message, `rekordbox XML line ${lineOf(REKORDBOX_XML, 'TrackID="3"')}: TrackID 2 is used again (first at line ${lineOf(REKORDBOX_XML, 'TrackID="2"')})`)
  const twice = TRAKTOR_NML.replace('FILE="c.aiff" VOLUME="USB Stick"', 'FILE="b.wav" VOLUME="C:"').replace('DIR="/:Sets/:"', 'DIR="/:DJ/:Tracks/:"')
  t.is((await refusal(readTraktor(twice))).code, 'ERR_DUPLICATE')
})

test('unknown elements, attributes and mark types are read past; what is dropped is said', async (t) => {
  const odd = REKORDBOX_XML.replace('<MOOD Value="3"/>', '<POSITION_MARK Name="" Type="9" Start="5" Num="-1"/><FUTURE><TEMPO Inizio="x"/></FUTURE>').replace(
    '<PRODUCT ',
    '<EXTRA_SECTION><TRACK TrackID="x"/></EXTRA_SECTION>\n  <PRODUCT ',
  )
  const lib = await readRekordbox(odd)
  const plain = await readRekordbox(REKORDBOX_XML)
  t.deepEqual(lib.tracks, plain.tracks)
  t.true(lib.warnings.some((w) => /Type 9/.test(w.message)))
  const oddDir = await readTraktor(TRAKTOR_NML.replace('DIR="/:Sets/:" FILE="c.aiff"', 'DIR="" FILE="c.aiff"'))
  t.is(oddDir.tracks[2]!.location, '/Volumes/USB Stick/c.aiff')
  t.is(oddDir.tracks[2]!.id, 'USB Stickc.aiff', 'the key as Traktor would spell it')
})

test('writers check the whole model first: a bad one throws ERR_BAD_MODEL before any byte', (t) => {
  const base = (): DjLibrary => ({ format: 'rekordbox', tracks: [{ id: '1', location: '/m/a.mp3', cues: [], grid: [] }], playlists: [], history: [], warnings: [], warningsDropped: 0 })
  const bad: Array<[string, (l: DjLibrary) => void, RegExp]> = [
    ['slot 8', (l) => l.tracks[0]!.cues.push({ type: 'cue', slot: 8, positionMs: 1 }), /slot is 0-7/],
    ['loop without length', (l) => l.tracks[0]!.cues.push({ type: 'loop', slot: null, positionMs: 1 }), /only a loop, has a lengthMs/],
    ['NaN position', (l) => l.tracks[0]!.cues.push({ type: 'cue', slot: null, positionMs: NaN }), /positionMs/],
    ['key', (l) => (l.tracks[0]!.key = 'Fm'), /key "Fm" is not a key name/],
    ['colour', (l) => (l.tracks[0]!.color = 'red'), /color/],
    ['zero bpm grid', (l) => l.tracks[0]!.grid.push({ positionMs: 0, bpm: 0, beatOfBar: 1 }), /grid row 1/],
    ['same id twice', (l) => l.tracks.push({ id: '1', cues: [], grid: [] }), /listed twice/],
    ['bad date', (l) => l.history.push({ ref: { trackId: '1' }, session: ['H'], playedAt: '2026-02-30T10:00:00' }), /playedAt/],
  ]
  for (const [what, spoil, message] of bad) {
    const lib = base()
    spoil(lib)
    for (const write of [rekordboxXml, traktorNml]) {
      const chunks = write(lib)
      const err = t.throws(() => chunks.next(), { instanceOf: DjFormatError }, what)
      t.is(err?.code, 'ERR_BAD_MODEL', what)
      t.regex(err?.message ?? '', message, what)
    }
  }
})

test('a write that fails leaves the old file whole and no temporary file behind', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'djformats-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'rekordbox.xml')
  await writeFile(path, REKORDBOX_XML)
  const lib = await readRekordbox(REKORDBOX_XML)
  function* failing() {
    yield* rekordboxXml(lib)
    throw new Error('disk gone')
  }
  await t.throwsAsync(writeDjFile(path, failing()), { message: 'disk gone' })
  t.is(await readFile(path, 'utf8'), REKORDBOX_XML)
  t.deepEqual(await readdir(dir), ['rekordbox.xml'])
  // A good write replaces it, and readDjFile tells the formats apart.
  await writeDjFile(path, traktorNml(lib))
  t.is((await readDjFile(path)).format, 'traktor')
  await writeFile(path, 'id,name\n')
  t.is((await refusal(readDjFile(path))).code, 'ERR_WRONG_ROOT')
  t.deepEqual(await readdir(dir), ['rekordbox.xml'])
})

test('playlist folders nested past 64 are refused when read and when written', async (t) => {
  const nest = (n: number) => `${'<NODE Type="0" Name="f" Count="1">'.repeat(n)}<NODE Name="p" Type="1" KeyType="0" Entries="0"/>${'</NODE>'.repeat(n)}`
  const doc = (n: number) => REKORDBOX_XML.replace('<NODE Type="0" Name="Empty folder" Count="0"/>', nest(n))
  const deepest = await readRekordbox(doc(64))
  t.notThrows(() => [...rekordboxXml(deepest)])
  t.notThrows(() => [...traktorNml(deepest)])
  const err = await refusal(readRekordbox(doc(65)))
  t.is(err.code, 'ERR_TOO_DEEP')
  t.regex(err.message, /^rekordbox XML line \d+: playlist folders nest deeper than 64$/)
  const tooDeep = { ...deepest, playlists: [{ type: 'folder' as const, name: 'top', children: deepest.playlists }] }
  t.is(t.throws(() => [...rekordboxXml(tooDeep)], { instanceOf: DjFormatError })?.code, 'ERR_BAD_MODEL')
  const nml = [...traktorNml(deepest)].join('')
  const deeperNml = nml.replace('<NODE TYPE="FOLDER" NAME="f">', '<NODE TYPE="FOLDER" NAME="x"><SUBNODES COUNT="1"><NODE TYPE="FOLDER" NAME="f">').replace('</SUBNODES></NODE></PLAYLISTS>', '</SUBNODES>\n</NODE>\n</SUBNODES></NODE></PLAYLISTS>')
  t.is((await refusal(readTraktor(deeperNml))).code, 'ERR_TOO_DEEP')
})

test('a message quoting an id with a newline in it is still one line', async (t) => {
  const err = await refusal(readRekordbox(REKORDBOX_XML.replace('TrackID="3"', 'TrackID="x&#10;y"').replace('TrackID="4"', 'TrackID="x&#10;y"')))
  t.is(err.code, 'ERR_DUPLICATE')
  t.regex(err.message, /TrackID x\\ny is used again/)
})
