// hashFile: the one read pass that yields the track id (SHA-256 of the
// bytes), the size and the torrent's piece hashes. Checked against
// sha256sum and an independent piece computation for every format.
import test from 'ava'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFileSync, truncateSync } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { hashFile, formatOfPath, pieceLengthFor, ScanError } from '../../src/library/index.ts'
import { PieceHasher } from '../../src/library/torrent-info.ts'
import { buildId3, encodeWav } from '../../src/demo/index.ts'
import { fixtureDir, makeAudio, type FixtureFormat } from '../helpers/audio-fixtures.ts'

const run = promisify(execFile)

async function sha256sum(path: string): Promise<string> {
  const { stdout } = await run('sha256sum', ['-b', path])
  return stdout.split(' ')[0]!
}

/** SHA-1 of each `pieceLength` slice, concatenated: what a torrent's `pieces` must be. */
function expectedPieces(bytes: Uint8Array, pieceLength: number): Buffer {
  const out: Buffer[] = []
  for (let at = 0; at < bytes.length; at += pieceLength) {
    out.push(createHash('sha1').update(bytes.subarray(at, at + pieceLength)).digest())
  }
  return Buffer.concat(out)
}

/** Deterministic 16-bit samples from a 32-bit LCG (no floating point). */
function lcgSamples(n: number, seed: number): Int16Array {
  const out = new Int16Array(n)
  let x = seed >>> 0
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    out[i] = (x >>> 16) - 32768
  }
  return out
}

const FORMATS: FixtureFormat[] = ['mp3', 'flac', 'wav', 'aiff', 'm4a', 'alac', 'ogg', 'opus']

for (const format of FORMATS) {
  test(`${format}: sha256 equals sha256sum, size and pieces match the bytes`, async (t) => {
    const dir = await fixtureDir(t)
    const path = await makeAudio(dir, format, { tags: { title: 'Hash Me', artist: 'Tester' }, seconds: 3 })
    const bytes = await readFile(path)
    const h = await hashFile(path, formatOfPath(path)!)
    t.is(h.sha256, await sha256sum(path))
    t.regex(h.sha256, /^[0-9a-f]{64}$/)
    t.is(h.size, (await stat(path)).size)
    t.is(h.size, bytes.length)
    t.is(h.pieceLength, pieceLengthFor(bytes.length))
    t.is(h.pieces.length, 20 * Math.ceil(bytes.length / h.pieceLength))
    t.deepEqual(Buffer.from(h.pieces), expectedPieces(bytes, h.pieceLength))
    t.regex(h.audioHash, /^[0-9a-f]{64}$/)
    t.not(h.audioHash, h.sha256, 'the audio hash leaves the tags out, so it differs from the file hash')
  })
}

test('a file larger than one read chunk: sha256, pieces and audio hash cross chunk boundaries', async (t) => {
  const dir = await fixtureDir(t)
  const path = join(dir, 'big.wav')
  // ~2.6 MB: three 1 MiB reads; the id3 chunk after "data" is not audio.
  const pcm = lcgSamples(1_300_001, 42)
  await writeFile(path, encodeWav(pcm, 44100, 1, buildId3({ title: 'Big', artist: 'Chunky' })))
  const bytes = await readFile(path)
  t.true(bytes.length > 2 * 1024 * 1024)
  const seen: number[] = []
  const h = await hashFile(path, 'wav', { onBytes: (n) => seen.push(n) })
  t.is(h.sha256, await sha256sum(path))
  t.is(h.size, bytes.length)
  t.deepEqual(Buffer.from(h.pieces), expectedPieces(bytes, h.pieceLength))
  t.is(
    seen.reduce((a, b) => a + b, 0),
    bytes.length,
    'onBytes reports every byte once',
  )
  t.true(seen.length >= 3)
  // WAV audio payload = the "fmt " chunk body then the "data" chunk body.
  const fmt = bytes.subarray(20, 36)
  const dataLength = bytes.readUInt32LE(40)
  const data = bytes.subarray(44, 44 + dataLength)
  t.is(bytes.toString('latin1', 36, 40), 'data')
  t.is(h.audioHash, createHash('sha256').update(fmt).update(data).digest('hex'))
})

test('PieceHasher gives the same pieces however the bytes are split', (t) => {
  const bytes = Buffer.from(lcgSamples(150_000, 7).buffer) // 300,000 bytes
  const pieceLength = 64 * 1024
  const want = expectedPieces(bytes, pieceLength)
  for (const step of [1, 1000, 65535, 65536, 65537, 131072, 300_000]) {
    const p = new PieceHasher(pieceLength)
    for (let at = 0; at < bytes.length; at += step) p.update(bytes.subarray(at, at + step))
    t.deepEqual(Buffer.from(p.digest()), want, `chunks of ${step}`)
  }
  // Exactly one piece, and an exact multiple of the piece length (no empty trailing piece).
  const one = new PieceHasher(pieceLength)
  one.update(bytes.subarray(0, pieceLength * 2))
  t.deepEqual(Buffer.from(one.digest()), expectedPieces(bytes.subarray(0, pieceLength * 2), pieceLength))
  t.is(expectedPieces(bytes.subarray(0, pieceLength * 2), pieceLength).length, 40)
})

test('a file that grows while it is read is refused with ERR_CHANGED', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'wav')
  let appended = false
  const err = await t.throwsAsync(
    hashFile(path, 'wav', {
      onBytes: () => {
        if (appended) return
        appended = true
        appendFileSync(path, Buffer.alloc(4096))
      },
    }),
    { instanceOf: ScanError },
  )
  t.is(err?.code, 'ERR_CHANGED')
  t.notRegex(err?.message ?? '', /\n/)
})

test('a file that shrinks while it is read is refused with ERR_CHANGED', async (t) => {
  const dir = await fixtureDir(t)
  const path = join(dir, 'shrinks.wav')
  await writeFile(path, encodeWav(lcgSamples(1_000_000, 3), 44100, 2)) // 2 MB: more than one read
  let cut = false
  const err = await t.throwsAsync(
    hashFile(path, 'wav', {
      onBytes: () => {
        if (cut) return
        cut = true
        truncateSync(path, 1000)
      },
    }),
    { instanceOf: ScanError },
  )
  t.is(err?.code, 'ERR_CHANGED')
})

test('an aborted signal stops hashing with the abort reason', async (t) => {
  const dir = await fixtureDir(t)
  const path = await makeAudio(dir, 'wav')
  const ac = new AbortController()
  ac.abort(new Error('stop now'))
  await t.throwsAsync(hashFile(path, 'wav', { signal: ac.signal }), { message: 'stop now' })
})

test('a missing file is ERR_UNREADABLE with a one-line reason', async (t) => {
  const dir = await fixtureDir(t)
  const err = await t.throwsAsync(hashFile(join(dir, 'nope.mp3'), 'mp3'), { instanceOf: ScanError })
  t.is(err?.code, 'ERR_UNREADABLE')
  t.regex(err?.message ?? '', /ENOENT/)
  t.notRegex(err?.message ?? '', /\n/)
})

test('hashing is deterministic and depends on every byte', async (t) => {
  const dir = await fixtureDir(t)
  const a = join(dir, 'a.wav')
  const b = join(dir, 'b.wav')
  const wav = encodeWav(lcgSamples(20_000, 9), 8000, 1)
  await writeFile(a, wav)
  wav[wav.length - 1] = wav[wav.length - 1]! ^ 1 // the very last sample byte
  await writeFile(b, wav)
  const [ha, ha2, hb] = await Promise.all([hashFile(a, 'wav'), hashFile(a, 'wav'), hashFile(b, 'wav')])
  t.deepEqual(ha, ha2)
  t.not(ha.sha256, hb.sha256)
  t.not(ha.audioHash, hb.audioHash)
  t.notDeepEqual(Buffer.from(ha.pieces), Buffer.from(hb.pieces))
})
