// The player's logic: the queue and what it prefetches, the waveform's
// decoding, resampling and colours, seeking by click, and cue edits.
import test from 'ava'
import {
  addMemoryCue, advance, moveItem, bandColor, cueLabel, cueProblem, decodeBase64, deleteCue, hotCue, newCueId, nextIndex, pickLevel,
  prefetchRange, PREFETCH_BYTES, previousIndex, reconcile, renameCue, resample, sanitizeCues, seekTime, setHotCue, upNext, wholeFetchesAhead,
  type Cue, type Queue,
} from '../../src/ui/logic/index.ts'

const q = (playable: Array<boolean | undefined>, index = 0): Queue => ({
  source: 'playlist:x',
  entries: playable.map((p, i) => ({ sha256: String(i), ...(p === undefined ? {} : { playable: p }) })),
  index,
})

test('the next track skips entries no online device holds', (t) => {
  t.is(nextIndex(q([true, false, undefined]).entries, 0), 2)
  t.is(nextIndex(q([true]).entries, 0), -1)
  t.is(nextIndex(q([false, true]).entries, -1), 1)
  t.is(previousIndex(q([true, false, true]).entries, 2), 0)
  t.deepEqual(advance(q([true, false, true]))?.index, 2)
  t.is(advance(q([true, false], 0)), null)
})

test('upNext is what gets prefetched: the entry after the playing one', (t) => {
  t.is(upNext(q([true, true, true], 1))?.sha256, '2')
  t.is(upNext(q([true, true], 1)), null)
  t.is(upNext(null), null)
  t.is(prefetchRange(), `bytes=0-${PREFETCH_BYTES - 1}`)
  t.is(PREFETCH_BYTES, 262144)
})

test('reconcile keeps the playing track when its playlist is reordered', (t) => {
  const queue = q([true, true, true], 1)
  const reordered = [queue.entries[1]!, queue.entries[2]!, queue.entries[0]!]
  const r = reconcile(queue, reordered, '1')
  t.is(r.index, 0)
  t.is(upNext(r)?.sha256, '2')
  t.is(reconcile(queue, [queue.entries[0]!], '1').index, -1)
})

test('moving a playlist entry, as the drop shows it before the node answers', (t) => {
  t.deepEqual(moveItem(['a', 'b', 'c', 'd'], 0, 2), ['b', 'c', 'a', 'd'])
  t.deepEqual(moveItem(['a', 'b', 'c', 'd'], 3, 0), ['d', 'a', 'b', 'c'])
  t.deepEqual(moveItem(['a', 'b', 'c'], 1, 1), ['a', 'b', 'c'])
  t.deepEqual(moveItem(['a', 'b', 'c'], 0, 99), ['b', 'c', 'a'])
  t.deepEqual(moveItem(['a', 'b'], 5, 0), ['a', 'b'])
})

test('base64 decoding matches Buffer, both alphabets', (t) => {
  const bytes = Uint8Array.from({ length: 1027 }, (_, i) => (i * 37) & 255)
  t.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64')), bytes)
  t.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64url')), bytes)
  t.deepEqual(decodeBase64(''), new Uint8Array(0))
  t.throws(() => decodeBase64('ab$d'), { instanceOf: TypeError })
})

test('the waveform level: the coarsest one wide enough, else the finest', (t) => {
  const levels = [{ columns: 1024, secondsPerColumn: 0.1, data: '' }, { columns: 128, secondsPerColumn: 1, data: '' }]
  t.is(pickLevel(levels, 100)?.columns, 128)
  t.is(pickLevel(levels, 600)?.columns, 1024)
  t.is(pickLevel(levels, 3000)?.columns, 1024)
  t.is(pickLevel([], 100), undefined)
})

test('resampling keeps the highest peak and the mean band energies under each pixel', (t) => {
  // 4 columns: peak, low, mid, high.
  const data = Uint8Array.from([255, 255, 0, 0, 51, 0, 255, 0, 102, 0, 0, 255, 0, 0, 0, 0])
  const two = resample(data, 4, 2)
  t.deepEqual([...two.peak], [1, 0.4000000059604645])
  t.deepEqual([...two.low], [0.5, 0])
  t.deepEqual([...two.mid], [0.5, 0])
  t.deepEqual([...two.high], [0, 0.5])
  // Wider than the data: each column spreads over several pixels.
  const eight = resample(data, 4, 8)
  t.is(eight.peak.length, 8)
  t.is(eight.peak[0], 1)
  t.is(eight.peak[1], 1)
  t.is(eight.peak[7], 0)
  // Fewer bytes than columns claim: no read past the end.
  t.is(resample(data.subarray(0, 6), 4, 4).peak[3], 1)
  t.is(resample(new Uint8Array(0), 10, 3).peak[0], 0)
})

test('band colours: lows red, mids green, highs blue, the strongest at full brightness', (t) => {
  t.deepEqual(bandColor(1, 0, 0), [255, 60, 60])
  t.deepEqual(bandColor(0, 0.5, 0), [60, 255, 60])
  t.deepEqual(bandColor(0, 0, 0.2), [60, 60, 255])
  t.deepEqual(bandColor(0.5, 0.5, 0.25), [255, 255, 158])
  t.deepEqual(bandColor(0, 0, 0), [128, 128, 128])
})

test('a click on the waveform seeks in proportion, clamped', (t) => {
  t.is(seekTime(50, 200, 120), 30)
  t.is(seekTime(-5, 200, 120), 0)
  t.is(seekTime(500, 200, 120), 120)
  t.is(seekTime(10, 0, 120), 0)
  t.is(seekTime(10, 100, Number.NaN), 0)
})

const ids = (() => {
  let n = 0
  return () => `cue_${String(n++).padStart(6, '0')}`
})()

test('hot cues: one per slot, set again moves it; memory cues add up', (t) => {
  let cues: Cue[] = []
  cues = setHotCue(cues, 'A', 10.12345, ids())
  cues = setHotCue(cues, 'C', 5, ids())
  cues = addMemoryCue(cues, 7, ids())
  t.deepEqual(cues.map((c) => c.position), [5, 7, 10.123])
  t.is(cueProblem(cues), null)
  cues = setHotCue(cues, 'A', 2, ids())
  t.is(cues.filter((c) => c.slot === 'A').length, 1)
  t.is(hotCue(cues, 'A')?.position, 2)
  t.is(hotCue(cues, 'B'), undefined)
  const mem = cues.find((c) => c.kind === 'memory')!
  t.is(cueLabel(cues, mem), 'Memory 1')
  cues = renameCue(cues, mem.id, '  Drop\u0001 ')
  t.is(cueLabel(cues, cues.find((c) => c.id === mem.id)!), 'Drop')
  cues = renameCue(cues, mem.id, '')
  t.false('name' in cues.find((c) => c.id === mem.id)!)
  t.is(renameCue(cues, mem.id, 'x'.repeat(100)).find((c) => c.id === mem.id)!.name!.length, 64)
  cues = deleteCue(cues, mem.id)
  t.is(cues.length, 2)
  t.is(cueLabel(cues, hotCue(cues, 'C')!), 'Hot C')
  t.is(setHotCue([], 'B', -3, ids())[0]!.position, 0)
})

test('cue validation follows the API rules', (t) => {
  const ok: Cue = { id: 'abcdefgh', kind: 'hot', slot: 'A', position: 1 }
  t.is(cueProblem([ok]), null)
  t.regex(cueProblem([{ ...ok, id: 'short' }])!, /8-32/)
  t.regex(cueProblem([ok, { ...ok, id: 'abcdefgi' }])!, /set twice/)
  t.regex(cueProblem([ok, { ...ok }])!, /used twice/)
  t.regex(cueProblem([{ ...ok, slot: undefined }])!, /slot/)
  t.regex(cueProblem([{ id: 'abcdefgh', kind: 'memory', slot: 'A', position: 1 }])!, /no slot/)
  t.regex(cueProblem([{ ...ok, position: -1 }])!, /position/)
  t.regex(cueProblem([{ ...ok, position: Number.NaN }])!, /position/)
  t.regex(cueProblem([{ ...ok, name: 'x'.repeat(65) }])!, /64/)
  t.regex(cueProblem([{ ...ok, color: 'red' }])!, /#rrggbb/)
  t.is(cueProblem([{ ...ok, color: '#A0b1C2', name: 'Intro' }]), null)
  // What a server sends is cleaned, not trusted: bad cues are dropped, the rest kept in order.
  t.deepEqual(
    sanitizeCues([{ ...ok, position: 9 }, { ...ok, id: 'zzzzzzzz' }, null, 'x', { id: 'memory01', kind: 'memory', position: 3 }]).map((c) => c.id),
    ['memory01', 'abcdefgh'],
  )
  t.deepEqual(sanitizeCues({ cues: [] }), [])
})

test('new cue ids are valid and differ', (t) => {
  const a = newCueId()
  const b = newCueId()
  t.regex(a, /^[A-Za-z0-9_-]{12}$/)
  t.not(a, b)
  t.is(newCueId(() => new Uint8Array(12)), 'AAAAAAAAAAAA')
})

test('a playlist fetches its next playable tracks whole, not those held here; a library queue fetches none', (t) => {
  const e = (sha: string, self = false, playable = true) => ({ sha256: sha, playable, holders: [{ self }] })
  const entries = [e('a'), e('b'), e('c', true), e('d', false, false), e('e'), e('f')]
  const playlist = { source: 'playlist:Friday', entries, index: 0 }
  t.deepEqual(wholeFetchesAhead(playlist, 2).map((x) => x.sha256), ['b', 'e'])
  t.deepEqual(wholeFetchesAhead({ ...playlist, index: 4 }, 2).map((x) => x.sha256), ['f'])
  t.deepEqual(wholeFetchesAhead({ ...playlist, index: 5 }, 2), [])
  t.deepEqual(wholeFetchesAhead({ ...playlist, source: 'library' }, 2), [])
  t.deepEqual(wholeFetchesAhead(null, 2), [])
})
