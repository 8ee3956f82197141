// The deterministic private torrent of a track. The infohash must equal the
// one a standard tool (create-torrent) computes for the same info dict, and
// it is frozen: fixtures below pin exact values.
import test from 'ava'
import { createHash } from 'node:crypto'
import { open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decode, encode, asDict } from '../../src/codec/index.ts'
import {
  circleTag,
  formatOfPath,
  hashFile,
  infohashOf,
  MAX_PIECE_LENGTH,
  MIN_PIECE_LENGTH,
  pieceLengthFor,
  trackInfoDict,
  type FileHashes,
} from '../../src/library/index.ts'
import { PieceHasher } from '../../src/library/torrent-info.ts'
import { encodeWav } from '../../src/demo/index.ts'
import { fixtureDir, makeAudio, type FixtureFormat } from '../helpers/audio-fixtures.ts'

// create-torrent and parse-torrent ship no type declarations; load them
// through a string so the strict type check does not ask for any.
type CreateTorrent = (input: string, opts: Record<string, unknown>, cb: (err: Error | null, torrent: Uint8Array) => void) => void
interface ParsedTorrent {
  infoHash: string
  pieceLength: number
  length: number
  pieces: string[]
  private?: boolean
  info: Record<string, unknown>
}
const createTorrentModule: string = 'create-torrent'
const parseTorrentModule: string = 'parse-torrent'
const { default: createTorrent } = (await import(createTorrentModule)) as { default: CreateTorrent }
const { default: parseTorrent } = (await import(parseTorrentModule)) as { default: (t: Uint8Array) => Promise<ParsedTorrent> }

const SECRET = new Uint8Array(32).fill(0x01)
const OTHER_SECRET = new Uint8Array(32).fill(0x02)

/** The same torrent as trackInfoDict, built by create-torrent from the file on disk. */
function referenceTorrent(path: string, sha256: string, size: number, secret: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    createTorrent(
      path,
      {
        name: sha256,
        pieceLength: pieceLengthFor(size),
        private: true,
        announceList: [], // no default public trackers in the file
        creationDate: new Date(0),
        info: { circle: Buffer.from(circleTag(secret, sha256)) },
      },
      (err, torrent) => (err ? reject(err) : resolve(torrent)),
    )
  })
}

/** The raw bytes of the `info` value inside a .torrent, found by walking the bencode (no re-encoding). */
function rawInfo(torrent: Uint8Array): Buffer {
  const b = Buffer.from(torrent)
  const key = Buffer.from('4:infod', 'latin1')
  const start = b.indexOf(key) + key.length - 1
  // Skip one bencoded value starting at `at`; returns the offset after it.
  const skip = (at: number): number => {
    const c = b[at]!
    if (c === 0x69) return b.indexOf(0x65, at) + 1
    if (c === 0x6c || c === 0x64) {
      at++
      while (b[at] !== 0x65) at = skip(at)
      return at + 1
    }
    const colon = b.indexOf(0x3a, at)
    return colon + 1 + Number(b.toString('latin1', at, colon))
  }
  return b.subarray(start, skip(start))
}

const FORMATS: FixtureFormat[] = ['mp3', 'flac', 'wav', 'm4a', 'ogg']

for (const format of FORMATS) {
  test(`${format}: infohashOf equals create-torrent's infohash and pieces`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { tags: { title: 'Torrent Me' }, seconds: 3 })
    const h = await hashFile(path, formatOfPath(path)!)
    const torrent = await referenceTorrent(path, h.sha256, h.size, SECRET)
    const parsed = await parseTorrent(torrent)
    t.is(infohashOf(h, SECRET), parsed.infoHash)
    t.is(infohashOf(h, SECRET), createHash('sha1').update(rawInfo(torrent)).digest('hex'))
    t.is(parsed.pieceLength, h.pieceLength)
    t.is(parsed.length, h.size)
    t.true(parsed.private)
    t.deepEqual(parsed.pieces, chunk20(h.pieces))
    // The info dict bytes themselves are the same, byte for byte, and canonical.
    t.deepEqual(Buffer.from(encode(trackInfoDict(h, SECRET))), rawInfo(torrent))
    const theirs = asDict(asDict(decode(torrent), 'torrent').info, 'info')
    t.deepEqual(Buffer.from(encode(theirs)), rawInfo(torrent))
  })
}

function chunk20(pieces: Uint8Array): string[] {
  const out: string[] = []
  for (let i = 0; i < pieces.length; i += 20) out.push(Buffer.from(pieces.subarray(i, i + 20)).toString('hex'))
  return out
}

test('a file just over 64 MiB gets 128 KiB pieces, matching create-torrent', async (t) => {
  const dir = await fixtureDir(t)
  const path = join(dir, 'long.wav')
  const size = 64 * 1024 * 1024 + 1
  // A valid WAV header, then silence: the file is sparse, so this is quick.
  const header = encodeWav(new Int16Array(0), 44100, 2)
  header.writeUInt32LE(size - 8, 4)
  header.writeUInt32LE(size - 44, 40)
  await writeFile(path, header)
  const fh = await open(path, 'r+')
  await fh.truncate(size)
  await fh.close()

  const h = await hashFile(path, 'wav')
  t.is(h.size, size)
  t.is(h.pieceLength, 128 * 1024)
  t.is(h.pieces.length, 20 * 513)
  const torrent = await referenceTorrent(path, h.sha256, h.size, SECRET)
  const parsed = await parseTorrent(torrent)
  t.is(parsed.pieceLength, 128 * 1024)
  t.deepEqual(parsed.pieces, chunk20(h.pieces))
  t.is(infohashOf(h, SECRET), parsed.infoHash)
})

test('the info dict holds exactly the frozen fields, and the circle tag only changes the tag', async (t) => {
  const fields = fixedFields(100_000)
  const info = trackInfoDict(fields, SECRET)
  t.deepEqual(Object.keys(info).sort(), ['circle', 'length', 'name', 'piece length', 'pieces', 'private'])
  t.is(info.name, fields.sha256)
  t.is(info.private, 1)
  t.is(info.length, 100_000)
  t.is(info['piece length'], 64 * 1024)
  t.is(info.circle.length, 32)

  const other = trackInfoDict(fields, OTHER_SECRET)
  t.notDeepEqual(Buffer.from(other.circle), Buffer.from(info.circle))
  t.deepEqual(Buffer.from(other.pieces), Buffer.from(info.pieces), 'pieces do not depend on the circle')
  t.not(infohashOf(fields, SECRET), infohashOf(fields, OTHER_SECRET))

  // The tag is an HMAC-SHA256 keyed by the circle secret over a label and the raw SHA-256.
  const { createHmac } = await import('node:crypto')
  const want = createHmac('sha256', SECRET).update('djcloud/circle-tag/v1:').update(Buffer.from(fields.sha256, 'hex')).digest()
  t.deepEqual(Buffer.from(circleTag(SECRET, fields.sha256)), want)
  t.notDeepEqual(Buffer.from(circleTag(SECRET, fields.sha256)), Buffer.from(circleTag(SECRET, 'ff'.repeat(32))))
})

// ---------------------------------------------------------------------------
// Frozen values. An infohash must NEVER change between versions: every
// device of a circle has to compute the same torrent for the same file, and
// libraries, manifests and peers refer to tracks by it. If one of these
// fails, the change to src/library/torrent-info.ts (or hash-file.ts) is the
// bug, not this test: do not update the expected values.

/** Fixed bytes: byte i = (i * 131 + (i >> 8) * 7 + 13) mod 256. */
function fixedBytes(n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >>> 8) * 7 + 13) & 0xff
  return b
}

function fixedFields(n: number): FileHashes {
  const bytes = fixedBytes(n)
  const pieceLength = pieceLengthFor(n)
  const p = new PieceHasher(pieceLength)
  p.update(bytes)
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    audioHash: '',
    size: n,
    pieceLength,
    pieces: p.digest(),
  }
}

/** A WAV of fixed integer PCM (no floating point anywhere), mono 8 kHz, 3 s. */
function fixedWav(): Buffer {
  const pcm = new Int16Array(24_000)
  let x = 0x12345678
  for (let i = 0; i < pcm.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    pcm[i] = ((x >>> 16) & 0x7fff) - 0x4000
  }
  return encodeWav(pcm, 8000, 1)
}

test('frozen: infohashes of fixed byte inputs with the circle secret 0x01 * 32', (t) => {
  const cases: Array<[number, string, string]> = [
    // [size, sha256 of the bytes, infohash]
    [1, '9d1e0e2d9459d06523ad13e28a4093c2316baafe7aec5b25f30eba2e113599c4', '52e601e1e17aac11ea9b223e99b8e2ae9ce33283'],
    [65_536, '7ba31b717357a671d316569975757c85eec9ca06dc5b0597a3f8abbd1c83f543', 'dd2f51d8e8fdc83ed2e7c47df898ece3a579994c'],
    [1_000_003, '4bf1a7badeec2b2cdeac43825e155e73612a96143c19de86f4376d497c19ea27', '8ba4a29d78a9140d1a9c95ce0b243f849628cc5e'],
  ]
  for (const [size, sha256, infohash] of cases) {
    const f = fixedFields(size)
    t.is(f.sha256, sha256, `sha256 of ${size} bytes`)
    t.is(infohashOf(f, SECRET), infohash, `infohash of ${size} bytes`)
  }
})

test('frozen: circle tag and bencoded info dict', (t) => {
  const f = fixedFields(1)
  t.is(Buffer.from(circleTag(SECRET, f.sha256)).toString('hex'), '0df43f05021eb8b3cd9a613b0d9120233a16072bc326ca3cd035dc219230713f')
  const bytes = Buffer.from(encode(trackInfoDict(f, SECRET)))
  t.is(createHash('sha256').update(bytes).digest('hex'), '17404ff9131b1ca105ebad967d8cbc26824f77283261f35bd3586b773a050059')
  // Key order and layout, readable: circle, length, name, piece length, pieces, private.
  t.regex(bytes.toString('latin1'), /^d6:circle32:[\s\S]{32}6:lengthi1e4:name64:[0-9a-f]{64}12:piece lengthi65536e6:pieces20:[\s\S]{20}7:privatei1ee$/)
})

test('frozen: a fixed WAV file hashed from disk', async (t) => {
  const dir = await fixtureDir(t)
  const path = join(dir, 'fixed.wav')
  await writeFile(path, fixedWav())
  const h = await hashFile(path, 'wav')
  t.is(h.size, 48_044)
  t.is(h.sha256, '9b9fbe18a25a5cd4d9b5fd1fde03d4be2616da743b92429032d316ea73a9d83d')
  // The audio hash is stored in libraries too: frozen like the infohash.
  t.is(h.audioHash, '7a0ce4c852764832a9d217b24a42601dafb2d235dccc6284438731e3e435477b')
  t.is(infohashOf(h, SECRET), '4039d06b70c9427e9728d3617c2a18cb3a53ece4')
})

test('frozen: pieceLengthFor', (t) => {
  const KiB = 1024
  const MiB = 1024 * KiB
  const GiB = 1024 * MiB
  t.is(MIN_PIECE_LENGTH, 64 * KiB)
  t.is(MAX_PIECE_LENGTH, 1 * MiB)
  const cases: Array<[number, number]> = [
    [0, 64 * KiB],
    [1, 64 * KiB],
    [64 * KiB, 64 * KiB],
    [10 * MiB, 64 * KiB],
    [64 * MiB, 64 * KiB],
    [64 * MiB + 1, 128 * KiB],
    [128 * MiB, 128 * KiB],
    [128 * MiB + 1, 256 * KiB],
    [256 * MiB + 1, 512 * KiB],
    [512 * MiB + 1, 1 * MiB],
    [1 * GiB, 1 * MiB],
    [1 * GiB + 1, 1 * MiB],
    [4 * GiB, 1 * MiB],
    [100 * GiB, 1 * MiB],
  ]
  for (const [size, want] of cases) t.is(pieceLengthFor(size), want, `size ${size}`)
})
