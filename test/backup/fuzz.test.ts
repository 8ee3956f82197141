// The backup readers take hostile bytes. Whatever they are given they either
// return or throw a BackupError with a one-line message: never another
// exception, never a hang. Fixed seeds, so a failure reproduces.
import test from 'ava'
import fc from 'fast-check'
import { deriveOwnerSecrets, generateKeyPair, issueCertificate, newRoster, signRoster } from '../../src/identity/index.ts'
import { addTracks, emptyEdits, mergePlaylist, setCues } from '../../src/manifest/index.ts'
import { BackupError, compressContent, decodeContent, encodeContent, readBackup, sealBackup, verifyBackup, type BackupContent } from '../../src/backup/index.ts'

const PHRASE = Array(23).fill('abandon').join(' ') + ' art'
const secrets = deriveOwnerSecrets(PHRASE)
const NOW = Date.UTC(2026, 0, 1)
const device = generateKeyPair()
const self = Buffer.from(device.publicKey).toString('hex')
const cert = issueCertificate(secrets.owner.seed, { owner: secrets.owner.publicKey, device: device.publicKey, name: 'desk', role: 'admin', created: NOW })
const edits = addTracks(emptyEdits(), mergePlaylist(new Map()), self, [{ sha256: 'cd'.repeat(32), audio: 'ef'.repeat(32), title: 'Intro', duration: 61.5 }])
const content: BackupContent = {
  owner: secrets.owner.publicKey, seq: 3, created: NOW, device: { key: device.publicKey, name: 'desk' },
  roster: signRoster(newRoster(secrets.owner.publicKey, cert, NOW), secrets.owner.seed),
  playlists: [{ name: 'Friday', author: self, edits }],
  cues: new Map([[self, new Map([['ab'.repeat(32), setCues(self, new Map(), [{ id: 'drop-0001', kind: 'hot', slot: 'A', position: 32.5, name: 'Drop' }])]])]]),
  analyses: [{
    audio: 'ab'.repeat(32),
    record: { version: 3, at: NOW, source: 'local', result: { version: 3, duration: 61.5, bpm: 124, tempoRange: { min: 85, max: 175 }, bpmConfidence: 0.9, beatOffset: 0.1, key: 'A minor', camelot: '8A', openKey: '1m', keyStrength: 0.8, lufs: -9, peakDb: -0.2 } },
    waveform: { levels: [{ columns: 2, secondsPerColumn: 30, data: Buffer.alloc(8, 7).toString('base64') }] },
  }],
  manifests: { libraries: [], playlists: [], blobs: new Map() },
}
const plain = encodeContent(content)
const sealed = sealBackup(compressContent(plain), { owner: secrets.owner, backupKey: secrets.backupKey, seq: 3, created: NOW })
const expect = { owner: secrets.owner.publicKey, seq: 3, created: NOW }

function safely(fn: () => unknown): 'ok' | 'refused' {
  const started = performance.now()
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (!(err instanceof BackupError)) throw err
    if (/\n/.test(err.message)) throw new Error('a message is one line')
    return 'refused'
  } finally {
    if (performance.now() - started > 2000) throw new Error('took over 2 s')
  }
}

type Mutation = { op: 'flip'; at: number; bit: number } | { op: 'cut'; at: number } | { op: 'splice'; at: number; len: number; bytes: Uint8Array }
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), len: fc.integer({ min: 0, max: 32 }), bytes: fc.uint8Array({ maxLength: 16 }) }),
)
function apply(input: Uint8Array, m: Mutation): Buffer {
  const b = Buffer.from(input)
  const at = m.at % (b.length + 1)
  if (m.op === 'flip') {
    if (at < b.length) b[at] = b[at]! ^ (1 << m.bit)
    return b
  }
  if (m.op === 'cut') return b.subarray(0, at)
  return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at + m.len)])
}

test('the valid fixtures read', (t) => {
  t.is(safely(() => readBackup(sealed, PHRASE, { now: NOW })), 'ok')
  t.is(safely(() => decodeContent(plain, expect)), 'ok')
})

test('arbitrary bytes as a backup file: refused, never thrown otherwise', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
    t.is(safely(() => verifyBackup(bytes, secrets.owner.publicKey, { now: NOW })), 'refused')
  }), { seed: 0x7b0c, numRuns: 400 })
})

test('a mutated backup file is never accepted', (t) => {
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
    const bytes = ms.reduce<Uint8Array>((b, m) => apply(b, m), sealed)
    if (Buffer.from(bytes).equals(sealed)) return
    t.is(safely(() => readBackup(bytes, PHRASE, { now: NOW })), 'refused')
  }), { seed: 0x5eed, numRuns: 300 })
})

test('the content decoder behind the AEAD: arbitrary and mutated content is read or refused, nothing else', (t) => {
  t.is(safely(() => decodeContent(plain, expect)), 'ok', 'the unmutated content reads')
  let accepted = 0
  let refused = 0
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
    const bytes = ms.reduce<Uint8Array>((b, m) => apply(b, m), plain)
    if (safely(() => decodeContent(bytes, expect)) === 'ok') accepted++
    else refused++
  }), { seed: 0xc0de, numRuns: 1500 })
  t.is(accepted + refused, 1500, 'every mutation was read or refused')
  t.true(refused > 0, 'mutations do get refused')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
    t.is(safely(() => decodeContent(bytes, expect)), 'refused')
  }), { seed: 0xfeed, numRuns: 300 })
  t.log(`${accepted} of 1500 mutated contents still read (a flip inside a title, say)`)
})
