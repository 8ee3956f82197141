// Small in-process swarms on 127.0.0.1 for tests: real TLS links, real dj_auth.
import type { Server } from 'node:net'
import { createLinkServer, dialLink } from '../../src/link/index.ts'
import { once } from 'node:events'
import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { authenticate, CompleteFile, metaFromTrack, PartialFile, Torrent, type PieceSource, type TorrentOptions, type TorrentMeta } from '../../src/swarm/index.ts'
import { pieceLengthFor } from '../../src/library/index.ts'
import type { Roster } from '../../src/identity/index.ts'
import type { TestDevice } from './circle.ts'

export async function randomTrackFile(dir: string, size: number, circleSecret: Uint8Array): Promise<{ path: string; bytes: Buffer; meta: TorrentMeta }> {
  const bytes = randomBytes(size)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const path = join(dir, `${sha256}.bin`)
  await writeFile(path, bytes)
  const pieceLength = pieceLengthFor(size)
  const pieces: Buffer[] = []
  for (let at = 0; at < size; at += pieceLength) pieces.push(createHash('sha1').update(bytes.subarray(at, at + pieceLength)).digest())
  return { path, bytes, meta: metaFromTrack({ sha256, size, pieceLength, pieces: Buffer.concat(pieces) }, circleSecret) }
}

export interface Seeder {
  port: number
  torrent: Torrent
  server: Server
  kill(): Promise<void>
}

/** A device serving `meta` from `source` (a complete file by default) on a port of its own. */
export async function startSeeder(t: ExecutionContext, device: TestDevice, roster: Roster, meta: TorrentMeta, source: PieceSource | string): Promise<Seeder> {
  const store = typeof source === 'string' ? await CompleteFile.open(source, meta) : source
  const torrent = new Torrent(meta, store)
  torrent.on('warning', () => {})
  const server = await createLinkServer((sock) => {
    sock.on('error', () => {})
    authenticate(sock, { credentials: device.credentials, roster: () => roster, accept: (ih) => (ih.equals(meta.infoHash) ? {} : null) }).then(
      (s) => torrent.addPeer(s),
      () => {},
    )
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const kill = async () => {
    server.close()
    await torrent.close()
  }
  t.teardown(kill)
  return { port: (server.address() as { port: number }).port, torrent, server, kill }
}

/** A device fetching `meta` into `cacheDir` from the given seeder ports. */
export async function startLeecher(t: ExecutionContext, device: TestDevice, roster: Roster, meta: TorrentMeta, cacheDir: string, ports: number[], opts: TorrentOptions = {}): Promise<Torrent> {
  const torrent = new Torrent(meta, await PartialFile.open(cacheDir, meta), opts)
  torrent.on('warning', () => {})
  t.teardown(() => torrent.close())
  for (const port of ports) {
    dialLink('127.0.0.1', port)
      .then((sock) => {
        sock.on('error', () => {})
        return authenticate(sock, { credentials: device.credentials, roster: () => roster, infoHash: meta.infoHash, remote: { host: '127.0.0.1', port } })
      })
      .then(
      (s) => torrent.addPeer(s),
      () => {},
    )
  }
  return torrent
}
