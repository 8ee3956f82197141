// onTrack may return a promise: the reader parses no further chunk until it
// settles (an import reads djcloud's state for a batch of entries meanwhile,
// and entries must not pile up), and a rejection ends the read with it.
import test from 'ava'
import { readRekordbox, readTraktor, rekordboxXml, traktorNml, type DjLibrary, type DjTrack } from '../../src/djformats/index.ts'
import { text } from './helpers.ts'

const library: DjLibrary = {
  format: 'rekordbox',
  tracks: Array.from({ length: 60 }, (_, i): DjTrack => ({ id: String(i + 1), location: `/m/${i}.mp3`, title: `T${i}`, grid: [], cues: [{ type: 'cue', slot: 0, positionMs: 1000 + i }] })),
  playlists: [],
  history: [],
  warnings: [],
  warningsDropped: 0,
}
const files = { rekordbox: text(rekordboxXml(library)), traktor: text(traktorNml(library)) }
const read = { rekordbox: readRekordbox, traktor: readTraktor }

for (const format of ['rekordbox', 'traktor'] as const) {
  test(`${format}: a promise onTrack returns holds the next chunk back until it settles`, async (t) => {
    let waiting = 0
    let readWhileWaiting = 0
    let pieces = 0
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const bytes = Buffer.from(files[format])
      for (let i = 0; i < bytes.length; i += 300) {
        if (waiting > 0) readWhileWaiting++
        pieces++
        yield bytes.subarray(i, i + 300)
      }
    }
    const seen: string[] = []
    await read[format](chunks(), {
      onTrack(track) {
        seen.push(track.id)
        if (seen.length % 7 !== 0) return
        waiting++
        return new Promise<void>((resolve) => setTimeout(() => (waiting--, resolve()), 2))
      },
    })
    t.is(seen.length, 60)
    t.true(pieces > 20)
    t.is(readWhileWaiting, 0, 'no chunk read while a track was being waited for')
  })

  test(`${format}: a promise onTrack returns that rejects ends the read with its error`, async (t) => {
    let n = 0
    await t.throwsAsync(
      read[format]([Buffer.from(files[format])].values(), { onTrack: () => (++n === 10 ? Promise.reject(new Error('the node stopped')) : undefined) }),
      { message: 'the node stopped' },
    )
  })
}
