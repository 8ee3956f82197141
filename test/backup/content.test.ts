// What is inside the ciphertext is checked as hostile input too, with caps:
// a bug or a damaged disk on the device that made a backup must not hurt the
// one that restores it. Each case is sealed properly (so it passes the
// signature and decrypts) and must still be refused with a BackupError.
import test from 'ava'
import { createHash } from 'node:crypto'
import { brotliCompressSync, constants } from 'node:zlib'
import { encode } from '../../src/codec/index.ts'
import { deriveOwnerSecrets, generateKeyPair, issueCertificate, newRecoveryPhrase, newRoster, signRoster } from '../../src/identity/index.ts'
import { emptyEdits } from '../../src/manifest/index.ts'
import {
  BACKUP_CAPS, BackupError, compressContent, decompressContent, encodeContent, readBackup, sealBackup, type BackupContent, type BackupErrorCode,
} from '../../src/backup/index.ts'

const PHRASE = Array(23).fill('abandon').join(' ') + ' art'
const secrets = deriveOwnerSecrets(PHRASE)
const NOW = Date.UTC(2026, 0, 1)
const device = generateKeyPair()
const cert = issueCertificate(secrets.owner.seed, { owner: secrets.owner.publicKey, device: device.publicKey, name: 'desk', role: 'admin', created: NOW })
const roster = signRoster(newRoster(secrets.owner.publicKey, cert, NOW), secrets.owner.seed)
const AUDIO = 'ab'.repeat(32)

function base(): BackupContent {
  return {
    owner: secrets.owner.publicKey, seq: 1, created: NOW, device: { key: device.publicKey, name: 'desk' }, roster,
    playlists: [{ name: 'Friday', author: Buffer.from(device.publicKey).toString('hex'), edits: emptyEdits() }],
    cues: new Map(),
    analyses: [{ audio: AUDIO, record: { version: 3, at: NOW, source: 'local', error: { code: 'ERR_DECODE', message: 'x' } } }],
    manifests: { libraries: [], playlists: [], blobs: new Map() },
  }
}

const sealPlain = (plain: Uint8Array, seq = 1) =>
  sealBackup(brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }), { owner: secrets.owner, backupKey: secrets.backupKey, seq, created: NOW })

function refusal(bytes: Uint8Array): BackupErrorCode | 'ok' {
  try {
    readBackup(bytes, PHRASE, { now: NOW })
    return 'ok'
  } catch (err) {
    if (err instanceof BackupError) return err.code
    throw err
  }
}

test('a well-formed content reads back as it was written', (t) => {
  const c = base()
  const { content } = readBackup(sealPlain(encodeContent(c)), PHRASE, { now: NOW })
  t.is(content.device.name, 'desk')
  t.deepEqual(content.playlists, c.playlists)
  t.deepEqual(content.analyses, c.analyses)
  t.is(content.rosterDecoded.seq, 1)
})

test('a decompression bomb stops at the content cap', (t) => {
  t.is(t.throws(() => decompressContent(compressContent(Buffer.alloc(1 << 20)), 1 << 16), { instanceOf: BackupError })?.code, 'ERR_TOO_LARGE')
  // The real cap, end to end: 1 byte over 256 MiB of zeros compresses to almost nothing.
  const bomb = brotliCompressSync(Buffer.alloc(BACKUP_CAPS.contentBytes + 1), { params: { [constants.BROTLI_PARAM_QUALITY]: 0 } })
  t.true(bomb.length < 1 << 20)
  t.is(refusal(sealBackup(bomb, { owner: secrets.owner, backupKey: secrets.backupKey, seq: 1, created: NOW })), 'ERR_TOO_LARGE')
  t.is(refusal(sealBackup(Buffer.from('not brotli at all'), { owner: secrets.owner, backupKey: secrets.backupKey, seq: 1, created: NOW })), 'ERR_CONTENT')
})

test('content that does not match its header, or holds another owner, is refused', (t) => {
  t.is(refusal(sealPlain(encodeContent({ ...base(), seq: 2 }), 1)), 'ERR_CONTENT')
  t.is(refusal(sealPlain(encodeContent({ ...base(), created: NOW - 1 }))), 'ERR_CONTENT')
  const other = deriveOwnerSecrets(newRecoveryPhrase())
  const otherCert = issueCertificate(other.owner.seed, { owner: other.owner.publicKey, device: device.publicKey, name: 'x', role: 'admin', created: NOW })
  t.is(refusal(sealPlain(encodeContent({ ...base(), roster: signRoster(newRoster(other.owner.publicKey, otherCert, NOW), other.owner.seed) }))), 'ERR_CONTENT')
  t.is(refusal(sealPlain(encodeContent({ ...base(), roster: Buffer.from('d1:xi1ee') }))), 'ERR_CONTENT')
})

test('malformed entries are refused: analyses, waveforms, edit sets, cue registers, blobs', (t) => {
  const withRaw = (patch: (d: Record<string, unknown>) => void) => {
    // Re-encode the dict of a valid content with one field replaced.
    const d: Record<string, unknown> = {
      type: 'djcloud-backup', v: 1, owner: secrets.owner.publicKey, seq: 1, created: NOW,
      device: { key: device.publicKey, name: 'desk' }, roster, playlists: [], cues: [], analyses: [],
      manifests: { libraries: [], playlists: [], blobs: [] },
    }
    patch(d)
    return sealPlain(encode(d as never))
  }
  t.is(refusal(withRaw(() => {})), 'ok')
  const audio = Buffer.from(AUDIO, 'hex')
  const rec = (o: unknown) => withRaw((d) => (d.analyses = [{ audio, rec: JSON.stringify(o) }]))
  t.is(refusal(rec({ version: 3, at: 1, source: 'local', error: { code: 'E', message: 'm' } })), 'ok')
  t.is(refusal(rec({ version: 3, at: 1, source: 'elsewhere', error: { code: 'E', message: 'm' } })), 'ERR_CONTENT')
  t.is(refusal(rec({ version: 3, at: 1, source: 'local' })), 'ERR_CONTENT', 'neither result nor error')
  t.is(refusal(rec({ version: 3, at: 1, source: 'local', result: { bpm: 'fast' } })), 'ERR_CONTENT')
  t.is(refusal(rec({ version: 3, at: 1, source: 'local', error: { code: 'E', message: 'm' }, __proto__x: 1 })), 'ERR_CONTENT')
  t.is(refusal(withRaw((d) => (d.analyses = [{ audio, rec: '{not json' }]))), 'ERR_CONTENT')
  t.is(refusal(withRaw((d) => (d.analyses = [{ audio, rec: 'x'.repeat(BACKUP_CAPS.recordBytes + 1) }]))), 'ERR_CONTENT')
  const okRec = JSON.stringify({ version: 3, at: 1, source: 'local', error: { code: 'E', message: 'm' } })
  t.is(refusal(withRaw((d) => (d.analyses = [{ audio, rec: okRec }, { audio, rec: okRec }]))), 'ERR_CONTENT', 'repeated recording')
  const wave = (cols: number, spc: string, bytes: number) => withRaw((d) => (d.analyses = [{ audio, rec: okRec, wave: [{ cols, spc, data: Buffer.alloc(bytes) }] }]))
  t.is(refusal(wave(2, '0.5', 8)), 'ok')
  t.is(refusal(wave(2, '0.5', 7)), 'ERR_CONTENT', 'waveform data of the wrong length')
  t.is(refusal(wave(2, 'NaN', 8)), 'ERR_CONTENT')
  t.is(refusal(wave(2, '-1', 8)), 'ERR_CONTENT')
  t.is(refusal(wave(0, '1', 0)), 'ERR_CONTENT')
  t.is(refusal(wave(BACKUP_CAPS.waveformColumns + 1, '1', 4 * (BACKUP_CAPS.waveformColumns + 1))), 'ERR_CONTENT')
  t.is(refusal(withRaw((d) => (d.playlists = [{ name: 'x', author: device.publicKey, edits: { clock: 0 } }]))), 'ERR_CONTENT')
  t.is(refusal(withRaw((d) => (d.cues = [{ author: device.publicKey, sets: [{ audio, regs: [{ c: 1, id: 'short', kind: 'hot', ms: 1, slot: 'A' }] }] }]))), 'ERR_CONTENT')
  t.is(refusal(withRaw((d) => (d.manifests = { libraries: [Buffer.alloc(32)], playlists: [], blobs: [] }))), 'ERR_CONTENT', 'a root that is not there')
  t.is(refusal(withRaw((d) => (d.manifests = { libraries: [], playlists: [], blobs: [Buffer.alloc(0)] }))), 'ERR_TOO_LARGE')
  t.is(refusal(withRaw((d) => (d.extra = 1))), 'ERR_CONTENT')
  t.is(refusal(withRaw((d) => (d.v = 2))), 'ERR_CONTENT')
})

test('a blob named as a library root that is not a signed manifest of this owner is refused before the home is touched', (t) => {
  const c = base()
  const junk = Buffer.from('not a manifest')
  const sha = createHash('sha256').update(junk).digest('hex')
  c.manifests = { libraries: [sha], playlists: [], blobs: new Map([[sha, junk]]) }
  t.is(refusal(sealPlain(encodeContent(c))), 'ERR_CONTENT')
})

test('counts over the caps are refused while decoding', (t) => {
  const authors = Array.from({ length: BACKUP_CAPS.cueAuthors + 1 }, (_, i) => {
    const key = Buffer.alloc(32)
    key.writeUInt16BE(i, 30)
    return { author: key, sets: [{ audio: Buffer.from(AUDIO, 'hex'), regs: [{ c: 1, id: 'cue-00001', del: 1 }] }] }
  })
  const d = {
    type: 'djcloud-backup', v: 1, owner: secrets.owner.publicKey, seq: 1, created: NOW,
    device: { key: device.publicKey, name: 'desk' }, roster, playlists: [], cues: authors, analyses: [],
    manifests: { libraries: [], playlists: [], blobs: [] },
  }
  t.is(refusal(sealPlain(encode(d))), 'ERR_TOO_LARGE')
  let deep: unknown = 1
  for (let i = 0; i < BACKUP_CAPS.depth + 2; i++) deep = [deep]
  t.is(refusal(sealPlain(encode({ ...d, cues: [], extra: deep } as never))), 'ERR_TOO_LARGE')
})

test('track notes ride in a backup by author and come back; a backup without notes has no notes key; a bad note is refused', async (t) => {
  const { decode } = await import('../../src/codec/index.ts')
  const author = Buffer.from(device.publicKey).toString('hex')
  const regs = [
    { field: 'grid' as const, clock: 2, value: [{ position: 0.0123456, bpm: 139.999924, beat: 1 }] },
    { field: 'rating' as const, clock: 1, value: 4 },
    { field: 'comment' as const, clock: 3, value: null },
  ]
  const c = { ...base(), notes: new Map([[author, new Map([[AUDIO, regs]])]]) }
  const { content } = readBackup(sealPlain(encodeContent(c)), PHRASE, { now: NOW })
  t.deepEqual(content.notes?.get(author)?.get(AUDIO), [...regs].sort((a, b) => (a.field < b.field ? -1 : 1)))
  t.false('notes' in (decode(encodeContent(base())) as object), 'without notes the content is what it was')
  const bad = decode(encodeContent(c)) as Record<string, any>
  bad.notes[0].sets[0].regs[0] = { c: 1, f: 'rating', v: 9 }
  t.is(refusal(sealPlain(encode(bad as never))), 'ERR_CONTENT')
})
