// jsonEntries: a large answer's members parsed one by one as chunks arrive, the same values JSON.parse gives.
import test from 'ava'
import { jsonEntries } from '../../src/djimport/json-entries.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

/** The text cut into chunks of `size` bytes (cutting through strings, escapes and multi-byte characters). */
async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const b = bytes(text)
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
}

async function collect(text: string, key: string, size: number): Promise<Array<[string | number, unknown]>> {
  const out: Array<[string | number, unknown]> = []
  await jsonEntries(pieces(text, size), key, (k, v) => void out.push([k, v]))
  return out
}

const doc = {
  before: { tracks: ['not this one'] },
  cues: {
    a1: [{ id: 'x', name: 'Intro, "the" {drop} [1]', position: 1.5 }],
    'b\u2215\\"2': [],
    'ü€𝄞': [{ id: 'y', name: '\n\t\\', color: '#ff0000' }, { id: 'z', length: 2 }],
  },
  tracks: [{ sha256: 'f1', paths: ['/a, b/c.mp3'] }, 12, 'text ] }', null, [1, [2]], { nested: { deep: [true] } }],
  after: 1,
}

for (const size of [1, 2, 3, 7, 64, 1 << 20])
  test(`members read as chunks of ${size} bytes arrive equal what JSON.parse gives`, async (t) => {
    for (const spaced of [JSON.stringify(doc), JSON.stringify(doc, null, 2)]) {
      t.deepEqual(await collect(spaced, 'cues', size), Object.entries(doc.cues))
      t.deepEqual(await collect(spaced, 'tracks', size), doc.tracks.map((v, i) => [i, v]))
    }
  })

test('empty containers give nothing; a missing key gives nothing; a cut-off or malformed answer throws', async (t) => {
  t.deepEqual(await collect('{"cues":{}}', 'cues', 3), [])
  t.deepEqual(await collect('{"tracks":[]}', 'tracks', 3), [])
  t.deepEqual(await collect('{"other":[1,2]}', 'tracks', 3), [])
  await t.throwsAsync(collect('{"tracks":[{"a":1},{"b":', 'tracks', 4), { instanceOf: SyntaxError })
  await t.throwsAsync(collect('{"tracks":[{"a":1},{b:2}]}', 'tracks', 4), { instanceOf: SyntaxError })
})
