// Resuming a download from its .part and .have: what the sidecar claims is
// checked again before it is served, a download killed during its final
// check completes, and the sidecar never lists data that is not on disk.
import test, { type ExecutionContext } from 'ava'
import { once } from 'node:events'
import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeCircle } from '../helpers/circle.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { randomTrackFile, startLeecher, startSeeder } from '../helpers/swarm.ts'
import { Bitfield } from '../../src/swarm/bitfield.ts'
import { PartialFile, PieceFileError, cachePaths } from '../../src/swarm/piece-file.ts'
import { Torrent } from '../../src/swarm/torrent.ts'
import type { TorrentMeta } from '../../src/swarm/torrent-meta.ts'

const MB = 1024 * 1024

/** Flips `n` bytes of a file at `position` (as a bad disk or a person would). */
function flip(path: string, position: number, n = 16): void {
  const fd = openSync(path, 'r+')
  try {
    const buf = Buffer.alloc(n)
    readSync(fd, buf, 0, n, position)
    for (let i = 0; i < n; i++) buf[i] = buf[i]! ^ 0xff
    writeSync(fd, buf, 0, n, position)
  } finally {
    closeSync(fd)
  }
}

/** A partial download left by an earlier run: `bytes` in the .part, `claimed` pieces in the .have. */
async function leftBehind(cacheDir: string, meta: TorrentMeta, bytes: Buffer, claimed: (i: number) => boolean): Promise<ReturnType<typeof cachePaths>> {
  await mkdir(cacheDir, { recursive: true })
  const paths = cachePaths(cacheDir, meta.sha256)
  const have = new Bitfield(meta.pieceCount)
  const part = Buffer.alloc(meta.size)
  for (let i = 0; i < meta.pieceCount; i++) {
    if (!claimed(i)) continue
    have.set(i)
    bytes.copy(part, i * meta.pieceLength, i * meta.pieceLength, Math.min(meta.size, (i + 1) * meta.pieceLength))
  }
  await writeFile(paths.part, part)
  await writeFile(paths.have, have.bytes)
  return paths
}

/** Resolves with the event's arguments, or fails the test after `ms` instead of hanging it. */
async function within<T>(t: ExecutionContext, p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

test('a resumed piece damaged on disk is never read: the store refuses it, good pieces are served after their check', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 4 * MB + 777, c.circleSecret)
  const cache = join(dir, 'cache')
  const paths = await leftBehind(cache, meta, bytes, (i) => i % 2 === 0)
  const L = meta.pieceLength
  flip(paths.part, 2 * L + 100)
  const part = await PartialFile.open(cache, meta)
  t.teardown(() => part.close())
  t.is(part.have.count, 0, 'nothing resumed counts before it is checked')
  t.is(part.unverifiedCount, Math.ceil(meta.pieceCount / 2))
  const err = await t.throwsAsync(part.readAt(2 * L, 4096), { instanceOf: PieceFileError })
  t.is(err?.code, 'ERR_NOT_HELD')
  t.true((await part.readAt(4 * L + 10, 5000)).equals(bytes.subarray(4 * L + 10, 4 * L + 5010)))
  // a piece never claimed is refused too, not read as zeros
  t.is((await t.throwsAsync(part.readAt(L, 10), { instanceOf: PieceFileError }))?.code, 'ERR_NOT_HELD')
  await part.reverify()
  t.is(part.unverifiedCount, 0)
  t.false(part.have.get(2))
  t.true(part.have.get(0) && part.have.get(4))
  t.is(part.have.count, Math.ceil(meta.pieceCount / 2) - 1)
  // the sidecar no longer lists the bad piece
  await part.close()
  const again = new Bitfield(meta.pieceCount, await readFile(paths.have))
  t.false(again.get(2))
  t.true(again.get(0))
})

test('16 bytes flipped in a resumed piece: a reader waiting for it gets the right bytes, fetched again from a holder, and the file completes', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 6 * MB + 4321, c.circleSecret)
  const cache = join(dir, 'cache')
  const paths = await leftBehind(cache, meta, bytes, (i) => i < meta.pieceCount - 2)
  const L = meta.pieceLength
  const bad = 3
  flip(paths.part, bad * L + 1000)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, cache, [seeder.port])
  const corrupt: number[] = []
  leecher.on('corrupt', (i) => corrupt.push(i))
  const done = once(leecher, 'done')
  await within(t, leecher.waitFor(bad * L, bad * L + L - 1), 20_000, 'the damaged piece')
  t.true((await leecher.readAt(bad * L, L)).equals(bytes.subarray(bad * L, bad * L + L)))
  const [final] = await within(t, done, 20_000, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  t.deepEqual(corrupt, [bad])
  // fetched: the damaged piece and the two never written, nothing else
  t.is(leecher.sources().home, 3 * L - (meta.pieceCount * L - meta.size))
})

test('a download killed during its final check (.have full, not finished) completes on restart without any peer', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 3 * MB + 99, c.circleSecret)
  const cache = join(dir, 'cache')
  const paths = await leftBehind(cache, meta, bytes, () => true)
  const torrent = new Torrent(meta, await PartialFile.open(cache, meta))
  t.teardown(() => torrent.close())
  const [final] = await within(t, once(torrent, 'done'), 20_000, 'done')
  t.is(final, paths.final)
  t.true((await readFile(paths.final)).equals(bytes))
  t.is(torrent.donePath, paths.final)
  t.true(torrent.complete)
  await t.throwsAsync(stat(paths.have))
  await t.throwsAsync(stat(paths.part))
})

test('a full .have over a damaged piece: the piece is fetched again and the file completes', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 3 * MB + 99, c.circleSecret)
  const cache = join(dir, 'cache')
  const paths = await leftBehind(cache, meta, bytes, () => true)
  flip(paths.part, meta.size - 20)
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, cache, [seeder.port])
  const [final] = await within(t, once(leecher, 'done'), 20_000, 'done')
  t.true((await readFile(final as string)).equals(bytes))
  t.is(leecher.sources().home, meta.size - (meta.pieceCount - 1) * meta.pieceLength)
})

test('a piece that goes bad on disk after it was written fails the whole-file check; the pieces are checked again and the bad one fetched again', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const { path, bytes, meta } = await randomTrackFile(dir, 3 * MB + 99, c.circleSecret)
  const cache = join(dir, 'cache')
  const seeder = await startSeeder(t, c.devices[0]!, c.roster, meta, path)
  const leecher = await startLeecher(t, c.devices[1]!, c.roster, meta, cache, [seeder.port])
  const corrupt: number[] = []
  leecher.on('corrupt', (i) => corrupt.push(i))
  let damaged = -1
  // Synchronous, right after the piece is on disk: before the whole-file check can read it.
  leecher.on('piece', (i) => {
    if (damaged >= 0) return
    damaged = i
    flip(cachePaths(cache, meta.sha256).part, i * meta.pieceLength + 7)
  })
  const failed = once(leecher, 'failed').then(() => 'failed')
  const result = await within(t, Promise.race([once(leecher, 'done').then(([p]) => p as string), failed]), 20_000, 'done')
  t.not(result, 'failed')
  t.true((await readFile(result)).equals(bytes))
  t.deepEqual(corrupt, [damaged])
})

test('the sidecar is written only after the data is fdatasync\'d, and through a temp file', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 2 * MB, c.circleSecret)
  const cache = join(dir, 'cache')
  const paths = cachePaths(cache, meta.sha256)
  // a save cut short by a crash is cleared at open
  await mkdir(cache, { recursive: true })
  await writeFile(paths.haveTmp, Buffer.from([0xff]))
  const part = await PartialFile.open(cache, meta)
  t.teardown(() => part.close())
  await t.throwsAsync(stat(paths.haveTmp))
  const fh = (part as unknown as { fh: { datasync: () => Promise<void> } }).fh
  const sync = fh.datasync.bind(fh)
  const seenAtSync: boolean[] = []
  let syncs = 0
  fh.datasync = async () => {
    // what the sidecar lists while the data is being synced: not yet piece 1
    const listed = await readFile(paths.have).then((b) => new Bitfield(meta.pieceCount, b).get(1), () => false)
    seenAtSync.push(listed)
    syncs++
    return sync()
  }
  const L = meta.pieceLength
  await part.writePiece(1, bytes.subarray(L, 2 * L))
  await part.close()
  t.true(syncs >= 1)
  t.false(seenAtSync[0])
  t.true(new Bitfield(meta.pieceCount, await readFile(paths.have)).get(1))
  await t.throwsAsync(stat(paths.haveTmp))
})

test('close() stops a long resume check between chunks', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 64 * MB, c.circleSecret)
  const cache = join(dir, 'cache')
  await leftBehind(cache, meta, bytes, () => true)
  const part = await PartialFile.open(cache, meta)
  const checking = part.reverify()
  await part.close()
  await checking
  t.true(part.unverifiedCount > 0, `the check went on to the end (${part.unverifiedCount} left)`)
  t.is((await t.throwsAsync(part.readAt(0, 10), { instanceOf: PieceFileError }))?.code, 'ERR_CLOSED')
})

test('the whole-file SHA-256 is read back as pieces reach the file in order, so finishing reads only what is left', async (t) => {
  const c = makeCircle(['home'])
  const dir = await tempDir(t)
  const { bytes, meta } = await randomTrackFile(dir, 20 * MB + 5, c.circleSecret)
  const part = await PartialFile.open(join(dir, 'cache'), meta)
  t.teardown(() => part.close())
  const fh = (part as unknown as { fh: { read: (...a: unknown[]) => Promise<{ bytesRead: number }> } }).fh
  const read = fh.read.bind(fh)
  let bytesRead = 0
  fh.read = async (...a: unknown[]) => {
    const r = await read(...a)
    bytesRead += r.bytesRead
    return r
  }
  const L = meta.pieceLength
  const piece = (i: number) => bytes.subarray(i * L, Math.min(meta.size, (i + 1) * L))
  // Out of order: the hash waits for the gap, then reads the run after it.
  for (let i = 1; i < meta.pieceCount - 1; i++) await part.writePiece(i, piece(i))
  await part.writePiece(0, piece(0))
  const ahead = meta.size - piece(meta.pieceCount - 1).length
  await until(async () => (bytesRead === ahead ? true : undefined))
  await part.writePiece(meta.pieceCount - 1, piece(meta.pieceCount - 1))
  bytesRead = 0
  t.true((await readFile(await part.finish())).equals(bytes))
  t.true(bytesRead <= L, `finishing read ${bytesRead} bytes of ${meta.size}`)
})
