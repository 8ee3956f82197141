// decodeManifest reads hostile bytes: whatever it is given, it either returns
// a verified manifest or throws a ManifestError. Any other exception (a
// TypeError, a RangeError, a stack overflow) or a hang is a bug.
import test from 'ava'
import fc from 'fast-check'
import type { BInput } from '../../src/codec/index.ts'
import { decodeManifest, encodeManifest, ManifestError, type DecodeContext } from '../../src/manifest/index.ts'
import { circle, NOW } from './helpers.ts'

const c = circle()
const d = c.devices[0]!
const valid = [
  encodeManifest({ kind: 'library', seq: 2, created: NOW, body: { tracks: [{ sha256: new Uint8Array(32), title: 'Intro', bpm: 124 }] } }, d.credentials),
  encodeManifest({ kind: 'playlist', name: 'peak', seq: 9, created: NOW, body: [new Uint8Array(32), new Uint8Array(32)] }, d.credentials),
  encodeManifest({ kind: 'backup', seq: 1, created: NOW, body: { chunks: [1, 2, 3] } }, d.credentials),
  encodeManifest({ kind: 'roster', seq: c.roster.seq, created: NOW, body: c.rosterBody as BInput }, c.ownerSigner),
]
const contexts: DecodeContext[] = [
  { roster: c.roster, now: NOW },
  { roster: c.roster, now: NOW, expectedKind: 'playlist', known: () => 3 },
]

function verdict(bytes: Uint8Array, ctx: DecodeContext): boolean {
  const started = performance.now()
  try {
    const m = decodeManifest(bytes, ctx)
    // Accepted: must be a verified manifest of a known kind.
    return typeof m.seq === 'number' && m.seq >= 1 && m.signer.length === 32
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err
    return !/\n/.test(err.message)
  } finally {
    if (performance.now() - started > 2000) throw new Error('decodeManifest took over 2 s')
  }
}

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'splice'; at: number; len: number; bytes: Uint8Array }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x30, 0x39, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0x2d, 0xff) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }), bytes: fc.uint8Array({ maxLength: 16 }) }),
)

function apply(input: Uint8Array, m: Mutation): Uint8Array {
  const b = Buffer.from(input)
  const at = m.at % (b.length + 1)
  switch (m.op) {
    case 'flip':
      if (at < b.length) b[at] = b[at]! ^ (1 << m.bit)
      return b
    case 'set':
      if (at < b.length) b[at] = m.byte
      return b
    case 'cut':
      return b.subarray(0, at)
    case 'insert':
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)])
    case 'splice':
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at + m.len)])
  }
}

test('arbitrary bytes decode to a verified manifest or throw a ManifestError', (t) => {
  const bencodish = fc
    .array(fc.oneof(fc.constantFrom('d', 'l', 'e', 'i', ':', '0', '1', '4', '9', '-', '4:kind', '4:body', '3:sig', '16:djcloud-manifest'), fc.string({ maxLength: 8 })), { maxLength: 64 })
    .map((parts) => Buffer.from(parts.join('')))
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), bencodish), fc.integer({ min: 0, max: contexts.length - 1 }), (bytes, i) =>
        verdict(bytes, contexts[i]!),
      ),
      { seed: 42, numRuns: 300 },
    ),
  )
})

test('mutated valid manifests decode to a verified manifest or throw a ManifestError', (t) => {
  let accepted = 0
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: valid.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: contexts.length - 1 }),
      (which, mutations, i) => {
        const bytes = mutations.reduce(apply, valid[which]!)
        const ok = verdict(bytes, contexts[i]!)
        try {
          decodeManifest(bytes, contexts[i]!)
          accepted++
          // Only an unchanged manifest can be accepted: any real change breaks the signature.
          return ok && valid.some((v) => Buffer.from(v).equals(bytes))
        } catch {
          return ok
        }
      },
    ),
    { seed: 42, numRuns: 300 },
  )
  t.log(`${accepted} of 300 mutations were no-ops and still verified`)
  // The unmutated manifests themselves verify under the plain context.
  for (const v of valid) t.notThrows(() => decodeManifest(v, contexts[0]!))
})
