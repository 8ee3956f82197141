// Readers take files from outside: whatever bytes they are given, they
// either return a library or throw a DjFormatError with a one-line message.
// Any other exception (a TypeError from a missing attribute, a RangeError)
// is a bug. Whatever they return, the writers can write.
import test from 'ava'
import fc from 'fast-check'
import { DjFormatError, readRekordbox, readTraktor, rekordboxXml, traktorNml, type DjLibrary } from '../../src/djformats/index.ts'
import { byteMutations, mutateBytes } from '../helpers/byte-mutations.ts'
import { REKORDBOX_XML, TRAKTOR_NML } from './fixtures.ts'

const seen = { read: 0, refused: 0 }

async function verdict(read: (b: Uint8Array) => Promise<DjLibrary>, bytes: Uint8Array): Promise<boolean> {
  let lib: DjLibrary
  try {
    lib = await read(bytes)
  } catch (err) {
    if (!(err instanceof DjFormatError)) throw err
    seen.refused++
    return !err.message.includes('\n')
  }
  seen.read++
  // What was read can be written back, in both formats.
  return [...rekordboxXml(lib)].length > 0 && [...traktorNml(lib)].length > 0
}

for (const [name, doc, read] of [
  ['rekordbox XML', REKORDBOX_XML, readRekordbox],
  ['Traktor NML', TRAKTOR_NML, readTraktor],
] as const) {
  test.serial(`damaged ${name}: a library or a DjFormatError, nothing else`, async (t) => {
    Object.assign(seen, { read: 0, refused: 0 })
    const valid = Buffer.from(doc)
    await fc.assert(
      fc.asyncProperty(byteMutations(4), async (ms) => verdict(read, mutateBytes(valid, ms))),
      { seed: 1616, numRuns: 400 },
    )
    // Attribute values swapped for odd ones keep the file well-formed, so they reach the readers' own checks.
    const values = ['', ' ', '-1', '1e999', 'NaN', '0x10', '-0', '99999999999999999999', '&amp;', '&#10;', 'ü', '/:', 'file://', '%zz']
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.constantFrom(...values), async (at, value) => {
        const quotes = [...doc.matchAll(/="([^"]*)"/g)]
        const m = quotes[at % quotes.length]!
        const changed = doc.slice(0, m.index! + 2) + value + doc.slice(m.index! + 2 + m[1]!.length)
        return verdict(read, Buffer.from(changed))
      }),
      { seed: 1617, numRuns: 400 },
    )
    // Both outcomes happened: the damage reached the readers' checks and was not all refused.
    t.true(seen.read > 50 && seen.refused > 50, JSON.stringify(seen))
  })
}
