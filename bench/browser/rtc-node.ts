// WebRTC links between two Node devices, in one process on loopback
// (node-datachannel through webrtc-polyfill, src/rtc/): the data channel's
// set-up time (offer made to channel open on both sides, signaling handed
// over in-process, so no tracker round trips) over `rounds` links, and one-way
// throughput of `size` bytes over a mux stream against the same bytes over a
// TLS 1.3 link as src/link builds it. Both ends share one event loop for
// both transports. Run: node --import tsx bench/browser/rtc-node.ts [MB] [rounds]
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { acceptOffer, createOffer, HIGH_WATER_MARK } from '../../src/rtc/index.ts'
import { nodeRtcOptions } from '../../src/rtc-node.ts'
import { createLinkServer, dialLink } from '../../src/link/index.ts'

const size = Number(process.argv[2] ?? 50) * 1024 * 1024
const rounds = Number(process.argv[3] ?? 10)
const CHUNK = 128 * 1024
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!
const r1 = (x: number) => Math.round(x * 10) / 10

const high = Number(process.env.HIGH_MB ?? 0) * 1024 * 1024
const opts = await nodeRtcOptions(high ? { mux: { highWaterMark: high, lowWaterMark: high / 4 } } : {})
async function pair() {
  const t0 = performance.now()
  const offer = await createOffer(opts)
  const answer = await acceptOffer(offer.sdp, opts)
  const [a, b] = await Promise.all([offer.accept(answer.sdp), answer.connection])
  return { a, b, ms: performance.now() - t0 }
}

const setups: number[] = []
for (let i = 0; i < rounds; i++) {
  const { a, b, ms } = await pair()
  setups.push(ms)
  a.close()
  b.close()
}

const data = randomBytes(size)
async function overMux(): Promise<number> {
  const { a, b } = await pair()
  let maxBuffered = 0
  const got = new Promise<number>((resolve) => {
    b.mux.once('stream', (s) => {
      let n = 0
      s.on('data', (c) => {
        n += c.length
        if (n === size) resolve(performance.now())
      })
    })
  })
  const t0 = performance.now()
  const s = a.mux.open()
  for (let at = 0; at < size; at += CHUNK) s.write(data.subarray(at, at + CHUNK), () => (maxBuffered = Math.max(maxBuffered, a.channel.bufferedAmount)))
  const ms = (await got) - t0
  a.close()
  b.close()
  console.log(`  mux: peak bufferedAmount ${maxBuffered} (high mark ${HIGH_WATER_MARK})`)
  return ms
}

async function overTls(): Promise<number> {
  let resolveDone: (t: number) => void
  const done = new Promise<number>((r) => (resolveDone = r))
  const server = await createLinkServer((sock) => {
    let n = 0
    sock.on('data', (c: Buffer) => {
      n += c.length
      if (n === size) resolveDone(performance.now())
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const sock = await dialLink('127.0.0.1', (server.address() as AddressInfo).port)
  const t0 = performance.now()
  for (let at = 0; at < size; at += CHUNK) {
    if (!sock.write(data.subarray(at, at + CHUNK))) await once(sock, 'drain')
  }
  const ms = (await done) - t0
  sock.destroy()
  server.close()
  return ms
}

const mux: number[] = []
const tls: number[] = []
for (let i = 0; i < 3; i++) {
  mux.push(await overMux())
  tls.push(await overTls())
}
const mbps = (ms: number) => r1(size / 1024 / 1024 / (ms / 1000))
const best = (xs: number[]) => Math.min(...xs)
console.log(`data channel set-up, Node<->Node, ${rounds} links: p50 ${r1(pct(setups, 50))} ms, p95 ${r1(pct(setups, 95))} ms (all: ${setups.map((x) => Math.round(x)).join(', ')})`)
console.log(`${size / 1024 / 1024} MB one way, best of 3: WebRTC mux ${mbps(best(mux))} MB/s (${Math.round(best(mux))} ms), TLS 1.3 link ${mbps(best(tls))} MB/s (${Math.round(best(tls))} ms): ${r1(best(tls) / best(mux))}x of TLS`)
