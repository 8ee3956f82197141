// Serato's tags parsed from real bytes (the serato-tags project's test data
// and docs) and from payloads built to the documented layouts; hostile bytes
// give a SeratoError or a result, nothing else.
import test from 'ava'
import {
  buildBeatGrid,
  buildMarkers1,
  buildMarkers2,
  encodeSeratoBase64,
  openEnvelope,
  parseBeatGrid,
  parseMarkers1,
  parseMarkers2,
  SeratoError,
  seratoPayloads,
  seratoTrackTags,
  serato32,
  toSerato32,
  trackColorShown,
  trackColorStored,
} from '../../src/serato/index.ts'

// Holzhaus/serato-tags data/mp4/hotcues-and-loops: the markersv2 atom's
// payload (01 01 + base64), as decoded from the MP4 and quoted in a public
// test suite. Six hot cues, three saved loops (one locked), COLOR, BPMLOCK.
const REAL_MARKERS2_B64 =
  'AQFDT0xPUgAAAAAEAP///0NVRQAAAAASAAAAAAD+AMwAAAAAU3RhcnQAQ1VFAAAAABgAAQAA\n' +
  'UoQAzIgAAABBZnRlciBJbnRybwBDVUUAAAAAEgADAAHqIADMzAAAAEJyZWFrAENVRQAAAAAN\n' +
  'AAQAAmyPAADMAAAAAENVRQAAAAANAAUAAOVBAMwAzAAAAENVRQAAAAAQAAcAA0CEAIgAzAAA\n' +
  'RW5kAExPT1AAAAAAFQAAAAAA/gAACSX/////ACeq4QAAAExPT1AAAAAAJAACAAGITAABqOj/\n' +
  '////ACeq4QAARWxlY3RyaWMgR3VpdGFyAExPT1AAAAAAIAADAAEmeQABNsf/////ACeq4QAB\n' +
  'TG9ja2VkIGxvb3AAQlBNTE9DSwAAAAABAA'
const realMarkers2 = () => {
  const out = Buffer.alloc(514)
  out[0] = 1
  out[1] = 1
  out.write(REAL_MARKERS2_B64, 2, 'latin1')
  return out
}

// serato-tags docs/serato_markers_.md: the hexdump of data/id3/hotcue-positions-
// 00m00s0-03m38s4-01m00s0-00m00s1-00m01s0 ("Serato Markers_" after its header).
const REAL_MARKERS1_HEX =
  '02050000000e' +
  '00000000007f7f7f7f7f007f7f7f7f7f063000000100' +
  '00000d2a587f7f7f7f7f007f7f7f7f7f063210000100' +
  '00000354647f7f7f7f7f007f7f7f7f7f0000014c0100' +
  '000000006c7f7f7f7f7f007f7f7f7f7f063318000100' +
  '00000007777f7f7f7f7f007f7f7f7f7f000318000100' +
  '7f7f7f7f7f7f7f7f7f7f007f7f7f7f7f000000000300'.repeat(9) +
  '077f7f7f'

test('Markers2 from a real file: hot cues by index with colours and names, saved loops with lengths, locked flag', (t) => {
  const m = parseMarkers2(realMarkers2())
  t.deepEqual(
    m.cues.map((c) => [c.index, c.positionMs, c.color, c.name]),
    [
      [0, 254, '#cc0000', 'Start'],
      [1, 21124, '#cc8800', 'After Intro'],
      [3, 125472, '#cccc00', 'Break'],
      [4, 158863, '#00cc00', ''],
      [5, 58689, '#cc00cc', ''],
      [7, 213124, '#8800cc', 'End'],
    ],
  )
  t.deepEqual(
    m.loops.map((l) => [l.index, l.startMs, l.endMs, l.name, l.locked, l.color]),
    [
      [0, 254, 2341, '', false, '#27aae1'],
      [2, 100428, 108776, 'Electric Guitar', false, '#27aae1'],
      [3, 75385, 79559, 'Locked loop', true, '#27aae1'],
    ],
  )
  t.is(m.trackColor, '#ffffff')
  t.false(m.bpmLock)

  // In the model: hot cues A-H by index, loops as memory loops with their length, no track colour (#ffffff is none);
  // the colours Serato gives when none is picked (each slot's own, the loops' blue) are no colour.
  const tags = seratoTrackTags({ container: 'mp4', tags: { 'Serato Markers2': realMarkers2() }, warnings: [] })
  t.deepEqual(tags.cues.slice(0, 2), [
    { type: 'cue', slot: 0, positionMs: 254, name: 'Start' },
    { type: 'cue', slot: 1, positionMs: 21124, name: 'After Intro' },
  ])
  t.true(tags.cues.every((c) => c.color === undefined))
  t.deepEqual(tags.cues.filter((c) => c.type === 'loop').map((c) => [c.slot, c.positionMs, c.lengthMs, c.name]), [
    [null, 254, 2087, undefined],
    [null, 100428, 8348, 'Electric Guitar'],
    [null, 75385, 4174, 'Locked loop'],
  ])
  t.is(tags.color, undefined)
  t.false(tags.bpmLock)
  t.deepEqual(tags.warnings, [])
})

test('Markers2 with the 4n+1 base64 Serato sometimes writes, and the documented empty example', (t) => {
  // serato-tags docs/serato_markers2.md: COLOR #ffffff and BPMLOCK off, nothing else.
  const doc = Buffer.concat([Buffer.from([1, 1]), Buffer.from('AQFDT0xPUgAAAAAEAP///0JQTUxPQ0sAAAAAAQAA', 'latin1'), Buffer.alloc(428)])
  t.like(parseMarkers2(doc), { cues: [], loops: [], trackColor: '#ffffff', bpmLock: false })
  // One stray character past a whole group carries no byte and is dropped.
  const stray = Buffer.concat([Buffer.from([1, 1]), Buffer.from('AQFDT0xPUgAAAAAEAP///0JQTUxPQ0sAAAAAAQAAA', 'latin1'), Buffer.alloc(4)])
  t.like(parseMarkers2(stray), { trackColor: '#ffffff', bpmLock: false })
})

test('Markers_ from the documented real dump: serato32 positions and colours', (t) => {
  t.is(serato32(Buffer.from('000d2a58', 'hex')), 218456) // 03:38.456
  for (const v of [0, 1, 127, 128, 60004, 218456, 0xffffff]) t.is(serato32(toSerato32(v)), v)
  const m = parseMarkers1(Buffer.from(REAL_MARKERS1_HEX, 'hex'))
  t.deepEqual(
    m.cues.map((c) => [c.index, c.startMs, c.color]),
    [
      [0, 0, '#cc0000'],
      [1, 218456, '#cc8800'],
      [2, 60004, '#0000cc'],
      [3, 108, '#cccc00'],
      [4, 1015, '#00cc00'],
    ],
  )
  t.is(m.loops.length, 9)
  t.true(m.loops.every((l) => l.startMs === undefined))
  t.is(m.trackColor, '#ffffff')
})

test('Markers_ wins over Markers2 where both are present; a hot cue 1-5 it leaves unset is unset', (t) => {
  const markers2 = buildMarkers2({
    cues: [
      { index: 0, positionMs: 1000, color: '#cc0000', name: 'Intro' },
      { index: 2, positionMs: 5000, color: '#00cc00', name: 'Gone' },
      { index: 6, positionMs: 9000, color: '#0000cc', name: 'Six' },
    ],
    loops: [],
  })
  const markers1 = buildMarkers1({ cues: [{ index: 0, positionMs: 1200, color: '#cc8800' }], loops: [], trackColor: '#ffffff' })
  const tags = seratoTrackTags({ container: 'id3', tags: { 'Serato Markers2': markers2, 'Serato Markers_': markers1 }, warnings: [] })
  t.deepEqual(tags.cues, [
    { type: 'cue', slot: 0, positionMs: 1200, color: '#cc8800', name: 'Intro' },
    { type: 'cue', slot: 6, positionMs: 9000, color: '#0000cc', name: 'Six' },
  ])
  t.is(seratoTrackTags({ container: 'id3', tags: { 'Serato Markers2': markers2 }, warnings: [] }).cues[0]!.color, undefined) // slot A's own red
})

test('BeatGrid: the documented one-marker grid, and non-terminal markers give their tempo by beats over time', (t) => {
  // serato-tags docs/serato_beatgrid.md: one terminal marker at 0.305 s, 115 BPM, footer 0x37.
  const doc = parseBeatGrid(Buffer.from('01000000000' + '13e9c283842e6000037', 'hex'))
  t.is(doc.length, 1)
  t.is(doc[0]!.bpm, 115)
  t.is(Math.round(doc[0]!.positionS * 1e6), 304994)
  const grid = seratoTrackTags({
    container: 'id3',
    tags: { 'Serato BeatGrid': buildBeatGrid([{ positionS: 0.5, beatsToNext: 64 }, { positionS: 0.5 + (64 * 60) / 128, bpm: 126 }]) },
    warnings: [],
  }).grid
  t.deepEqual(grid, [
    { positionMs: 500, bpm: 128, beatOfBar: 1 },
    { positionMs: 30500, bpm: 126, beatOfBar: 1 },
  ])
})

test('FLAC/MP4 envelopes: base64 of MIME, name and the GEOB bytes; a mislabelled one is refused', (t) => {
  const payload = realMarkers2()
  const env = Buffer.concat([Buffer.from('application/octet-stream\0\0Serato Markers2\0', 'latin1'), payload])
  const text = encodeSeratoBase64(env, true)
  t.deepEqual(Buffer.from(openEnvelope(text, 'Serato Markers2')), payload)
  const err = t.throws(() => openEnvelope(text, 'Serato BeatGrid'), { instanceOf: SeratoError })
  t.is(err!.code, 'ERR_BAD_TAG')
  // Through music-metadata's shapes: a Vorbis comment and an ID3 GEOB.
  const flac = seratoPayloads({ native: { vorbis: [{ id: 'SERATO_MARKERS_V2', value: text }] } })
  t.is(flac!.container, 'vorbis')
  t.deepEqual(Buffer.from(flac!.tags['Serato Markers2']!), payload)
  const id3 = seratoPayloads({ native: { 'ID3v2.4': [{ id: 'GEOB', value: { type: 'application/octet-stream', filename: '', description: 'Serato Markers2', data: payload } }] } })
  t.is(id3!.container, 'id3')
  t.is(seratoTrackTags(id3!).cues.length, 9)
  const ogg = seratoPayloads({ native: { vorbis: [{ id: 'serato_markers2', value: 'xyz' }] } })
  t.regex(ogg!.warnings[0]!, /Ogg Vorbis/)
})

test('track colours: stored picker values and shown colours convert both ways', (t) => {
  t.is(trackColorShown('#ffffff'), undefined)
  t.is(trackColorShown('#ff99ff'), '#993399')
  t.is(trackColorStored('#993399'), '#ff99ff')
  for (const c of ['#cc0000', '#000000', '#999999', '#123456']) t.is(trackColorStored(trackColorShown(c)), c)
})

test('Markers2 written and read back gives the same entries', (t) => {
  const m = {
    cues: [{ index: 1, positionMs: 123456, color: '#00cc88', name: 'Drop ✓' }],
    loops: [{ index: 0, startMs: 1000, endMs: 8500, name: 'Build', locked: true, color: '#27aae1' }],
    trackColor: '#ff99ff',
    bpmLock: true,
  }
  t.deepEqual(parseMarkers2(buildMarkers2(m)), { ...m, others: [] })
  // Entries of other types (FLIP, ...) are kept as their bytes and written back.
  const flip = { type: 'FLIP', body: Buffer.from([0, 1, 2, 3]) }
  t.deepEqual(parseMarkers2(buildMarkers2({ ...m, others: [flip] })).others, [flip])
})

// A deterministic byte mangler: every damaged payload reads or throws a SeratoError, never anything else.
function* damaged(bytes: Buffer, seed: number): Generator<Buffer> {
  let s = seed
  const rnd = (n: number) => ((s = (s * 1103515245 + 12345) >>> 0) % n)
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(bytes)
    const kind = rnd(3)
    if (kind === 0) yield b.subarray(0, rnd(b.length + 1))
    else if (kind === 1) {
      for (let k = 0; k <= rnd(4); k++) b[rnd(b.length)] = rnd(256)
      yield b
    } else {
      const at = rnd(b.length - 4)
      b.writeUInt32BE([0xffffffff, 0x7fffffff, 0, 1, 0x10000][rnd(5)]!, at)
      yield b
    }
  }
}

test('hostile payloads: a result or a SeratoError, nothing else', (t) => {
  const cases: Array<[Buffer, (b: Buffer) => unknown]> = [
    [realMarkers2(), parseMarkers2],
    [Buffer.from(REAL_MARKERS1_HEX, 'hex'), parseMarkers1],
    [buildBeatGrid([{ positionS: 0.5, beatsToNext: 64 }, { positionS: 30.5, bpm: 126 }]), parseBeatGrid],
  ]
  let refused = 0
  for (const [bytes, parse] of cases) {
    for (const b of damaged(bytes, bytes.length)) {
      try {
        parse(b)
      } catch (err) {
        if (!(err instanceof SeratoError)) return t.fail(`${(err as Error).stack}`)
        t.false(err.message.includes('\n'))
        refused++
      }
    }
  }
  t.true(refused > 50)
  // The whole model path too: a damaged tag is a warning, the others still read.
  const tags = seratoTrackTags({ container: 'id3', tags: { 'Serato Markers2': Buffer.from([1, 1, 0x21, 0x41]), 'Serato BeatGrid': buildBeatGrid([{ positionS: 1, bpm: 120 }]) }, warnings: [] })
  t.is(tags.warnings.length, 1)
  t.is(tags.grid.length, 1)
  // A count that promises more than the bytes hold is refused before anything is allocated for it.
  t.throws(() => parseBeatGrid(Buffer.from([1, 0, 0, 0, 0x27, 0x10, 0, 0])), { instanceOf: SeratoError, message: /needs 80000 bytes/ })
})
