import test from 'ava'
import { foldText } from '../../src/library/index.ts'
import { matches, queryTokens, sortTracks } from '../../src/library/search.ts'
import type { TrackRecord } from '../../src/library/index.ts'

let n = 0
function track(tags: Partial<TrackRecord['tags']>, path = `/m/${++n}.mp3`, extra: Partial<TrackRecord> = {}): TrackRecord {
  return {
    sha256: String(n).padStart(64, '0'), audioHash: '', size: 1, format: 'mp3', pieceLength: 65536,
    tags: { hasCover: false, ...tags }, paths: [path], missing: false, added: n, updated: n, ...extra,
  }
}

test('folding ignores case, accents and letters that do not decompose', (t) => {
  t.is(foldText('Beyoncé'), 'beyonce')
  t.is(foldText('Beyonce\u0301'), 'beyonce') // NFD input
  t.is(foldText('Søren Straße Łódź'), 'soren strasse lodz')
  t.is(foldText('ＡＢＣ'), 'abc') // full-width
})

test('every token must match somewhere, in any order, including the file name', (t) => {
  const halo = track({ title: 'Halo', artist: 'Beyoncé', genre: 'R&B' }, '/music/2008/halo-extended.flac')
  t.true(matches(halo, queryTokens('beyonce halo')))
  t.true(matches(halo, queryTokens('HALO   beyoncé')))
  t.true(matches(halo, queryTokens('extended r&b')))
  t.false(matches(halo, queryTokens('beyonce crazy')))
  t.true(matches(halo, queryTokens('')))
})

test('sorting by a number puts tracks without it last in both directions', (t) => {
  const a = track({ title: 'a', bpm: 174 })
  const b = track({ title: 'b', bpm: 124 })
  const c = track({ title: 'c' })
  t.deepEqual(sortTracks([a, b, c], 'bpm').map((x) => x.tags.title), ['b', 'a', 'c'])
  t.deepEqual(sortTracks([a, b, c], 'bpm', true).map((x) => x.tags.title), ['a', 'b', 'c'])
})

test('text sorts ignore case and accents and order numbers naturally', (t) => {
  const tracks = [track({ title: 'track 10' }), track({ title: 'Track 2' }), track({ title: 'Éclair' }), track({ title: 'apple' })]
  t.deepEqual(sortTracks(tracks, 'title').map((x) => x.tags.title), ['apple', 'Éclair', 'Track 2', 'track 10'])
})

test('tempo and key sort by the analysis where there is one, else the tag; keys go round the Camelot wheel', (t) => {
  const analysis = (bpm: number, camelot: string) =>
    ({ version: 2, duration: 60, bpm, tempoRange: { min: 85, max: 175 }, bpmConfidence: 1, beatOffset: 0, key: 'A minor', camelot, openKey: '1m', keyStrength: 1, lufs: -9, peakDb: -1 })
  const wrongTag = track({ title: 'dnb', bpm: 87, key: 'Am' }, undefined, { analysis: analysis(174, '8A') })
  const tagged = track({ title: 'tagged', bpm: 128, key: '10A' })
  const eleven = track({ title: 'eleven', bpm: 90 }, undefined, { analysis: analysis(90, '11B') })
  const nothing = track({ title: 'nothing' })
  t.deepEqual(sortTracks([wrongTag, tagged, eleven, nothing], 'bpm').map((x) => x.tags.title), ['eleven', 'tagged', 'dnb', 'nothing'])
  t.deepEqual(sortTracks([eleven, tagged, wrongTag, nothing], 'key').map((x) => x.tags.title), ['dnb', 'tagged', 'eleven', 'nothing'])
})
