// One device of an in-memory test circle (circle.ts) as a real Swarm on
// 127.0.0.1, port from the OS, its cache under `dir`: the unit the swarm
// tests build their networks from. Warnings are swallowed (the tests assert
// on what happens, not on peers' noise); closed at teardown.
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { once } from 'node:events'
import { authenticate, CompleteFile, deviceChannelInfoHash, encodeInfoDict, LOOKUP_EXTENSION, Swarm, Torrent, type PeerSession, type SwarmOptions, type TorrentMeta } from '../../src/swarm/index.ts'
import { createLinkServer, dialLink } from '../../src/link/index.ts'
import { asDict, decode, encode } from '../../src/codec/index.ts'
import type { TestCircle } from './circle.ts'
import { delayProxy } from './delay-proxy.ts'

/** Device `i` of circle `c`, started; its cache is `dir/cache-<i>` unless `opts` says otherwise. */
export async function startSwarm(t: ExecutionContext, c: TestCircle, i: number, dir: string, opts: Partial<SwarmOptions> = {}): Promise<Swarm> {
  const s = new Swarm({ credentials: c.devices[i]!.credentials, roster: () => c.roster, circleSecret: c.circleSecret, cacheDir: join(dir, `cache-${i}`), host: '127.0.0.1', ...opts })
  s.on('warning', () => {})
  t.teardown(() => s.close())
  await s.start()
  return s
}

/**
 * Device `i` of circle `c` linked to `to`'s device channel by hand: a real
 * TLS link and dj_auth, then its hello (peer port `peerPort`), and nothing
 * else unless the test sends it: a device whose answers the test controls.
 */
export async function handLinkedDevice(t: ExecutionContext, c: TestCircle, i: number, to: Swarm, peerPort: number, via?: number): Promise<PeerSession> {
  const s = await authenticate(await dialLink('127.0.0.1', via ?? to.port), {
    credentials: c.devices[i]!.credentials, roster: () => c.roster, extensions: [LOOKUP_EXTENSION], infoHash: deviceChannelInfoHash(c.circleSecret), remote: { host: '127.0.0.1', port: to.port },
  })
  t.teardown(() => s.wire.destroy())
  s.wire.extended(LOOKUP_EXTENSION, encode({ t: 'hello', port: peerPort }))
  return s
}

/**
 * Device `i` holding `meta` (from `path`) behind a track port of its own whose
 * wires answer slowly: dj_auth starts after `authAfterMs`, the torrent takes
 * the wire `readyAfterMs` after that. Linked to `to` by hand (through a proxy
 * holding each chunk `linkDelayMs` each way, when given: a far device), it
 * answers every ping at once and every lookup after `answerAfterMs` (default at once). `wires()`: connections its track
 * port took; `asks()`: the lookups it got (`o`, `k`, `n` when asked to push);
 * `requests()`: block requests its track wires got.
 */
export async function slowHolder(
  t: ExecutionContext, c: TestCircle, i: number, to: Swarm, track: { meta: TorrentMeta; path: string },
  delays: { authAfterMs?: number; readyAfterMs?: number; linkDelayMs?: number; answerAfterMs?: number },
): Promise<{ wires: () => number; asks: () => Array<{ o?: number; k?: number; n?: number }>; requests: () => number }> {
  const torrent = new Torrent(track.meta, await CompleteFile.open(track.path, track.meta))
  t.teardown(() => torrent.close())
  let wires = 0
  let requests = 0
  const asks: Array<{ o?: number; k?: number; n?: number }> = []
  const server = await createLinkServer((sock) => {
    sock.on('error', () => {})
    wires++
    setTimeout(() => {
      authenticate(sock, { credentials: c.devices[i]!.credentials, roster: () => c.roster, accept: () => ({}) }).then(
        (s) => {
          s.wire.on('request', () => requests++)
          setTimeout(() => torrent.addPeer(s), delays.readyAfterMs ?? 0).unref()
        },
        () => {},
      )
    }, delays.authAfterMs ?? 0).unref()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const via = delays.linkDelayMs === undefined ? undefined : await delayProxy(t, to.port, delays.linkDelayMs)
  const device = await handLinkedDevice(t, c, i, to, (server.address() as { port: number }).port, via)
  device.wire.on('extended', (_name, payload) => {
    const m = asDict(decode(payload), 'lookup')
    const kind = Buffer.from(m.t as Uint8Array).toString()
    if (kind === 'ping') device.wire.extended(LOOKUP_EXTENSION, encode({ t: 'pong', id: m.id as number }))
    if (kind !== 'q') return
    asks.push({ ...(m.o === undefined ? {} : { o: m.o as number, k: m.k as number, n: m.n as number }) })
    const answer = () => device.wire.extended(LOOKUP_EXTENSION, encode({ t: 'r', id: m.id as number, info: encodeInfoDict(track.meta, c.circleSecret) }))
    if (delays.answerAfterMs) setTimeout(answer, delays.answerAfterMs).unref()
    else answer()
  })
  device.wire.resume()
  return { wires: () => wires, asks: () => asks, requests: () => requests }
}
