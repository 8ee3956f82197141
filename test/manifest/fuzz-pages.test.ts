// The other decoders that read what peers send: library pages, library roots
// and friends' share lists. Whatever the bytes, each returns a value or
// throws its one-line error (ManifestError for pages and roots); never a
// TypeError, a RangeError, a stack overflow or a hang.
import test from 'ava'
import fc from 'fast-check'
import { decode, encode } from '../../src/codec/index.ts'
import { decodePage, encodePages, ManifestError, rootFromBody, rootToBody } from '../../src/manifest/index.ts'
import { decodeShareList } from '../../src/node/index.ts'
import { fakeTracks } from './fake-tracks.ts'
import { byteMutations, mutateBytes } from '../helpers/byte-mutations.ts'

const pages = encodePages(fakeTracks(150))
const root = encode(rootToBody({ count: 150, pages: pages.map((_, i) => String(i).padStart(64, '0')), playlists: [{ name: 'a', seq: 1, blob: 'f'.repeat(64) }] }))
const share = encode({ created: 1, playlists: [{ name: 'p', entries: [{ sha256: Buffer.alloc(32, 1), title: 't', durationMs: 1000 }] }] })

/** Applies byte mutations (flip, set, cut) to a valid input. */
const mutated = (valid: Uint8Array) => byteMutations(8).map((ms) => new Uint8Array(mutateBytes(valid, ms)))

function holds(run: () => unknown, errorClass: new (...a: never[]) => Error): boolean {
  const started = performance.now()
  try {
    run()
    return true
  } catch (err) {
    // A TypeError or RangeError is a crash in the decoder, not a refusal.
    if (!(err instanceof errorClass) || err instanceof TypeError || err instanceof RangeError) throw err
    return !/\n/.test(err.message)
  } finally {
    if (performance.now() - started > 2000) throw new Error('a decoder took over 2 s')
  }
}

const input = (valid: Uint8Array) => fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated(valid))

test('library pages: arbitrary and mutated bytes give tracks or a ManifestError', (t) => {
  fc.assert(fc.property(input(pages[0]!), (bytes) => holds(() => decodePage(bytes, 0, pages.length), ManifestError)), { seed: 7, numRuns: 1500 })
  t.is(decodePage(pages[1]!, 1, pages.length).length > 0, true)
})

test('library roots: arbitrary and mutated bodies give a root or a ManifestError', (t) => {
  const asBody = (bytes: Uint8Array) => {
    try {
      return decode(bytes)
    } catch {
      return undefined
    }
  }
  fc.assert(
    fc.property(input(root), (bytes) => {
      const body = asBody(bytes)
      return body === undefined || holds(() => rootFromBody(body), ManifestError)
    }),
    { seed: 8, numRuns: 1500 },
  )
  t.is(rootFromBody(decode(root)).count, 150)
})

test("friends' share lists: arbitrary and mutated bytes give a list or a one-line Error", (t) => {
  fc.assert(fc.property(input(share), (bytes) => holds(() => decodeShareList(bytes), Error)), { seed: 9, numRuns: 1500 })
  t.deepEqual(decodeShareList(share).playlists[0]!.entries[0]!.title, 't')
})
