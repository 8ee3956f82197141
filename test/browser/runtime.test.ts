/// <reference lib="dom" />
// The paired browser as a live device (src/browser/device.ts), end to end:
// two real `djcloud serve` processes on 127.0.0.1 (one runs the circle's
// tracker and serves the page) and a page in Debian's Chromium, paired from
// a link. The page signals through its node's /api/signal (it cannot pin the
// tracker's key), offers WebRTC links to both Node devices, fetches a track
// the two hold with bytes from both (SHA-256 read back from OPFS), serves a
// track only it holds to a Node device (`/api/fetch`, SHA-256 checked), and
// once `djcloud trust revoke` ran its links are dropped and it is refused.
import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatId, loadIdentity } from '../../src/identity/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { encodeInfoDict } from '../../src/swarm/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { cli } from '../helpers/cli.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, withLogs, type NodeProcess } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { randomTrackFile } from '../helpers/swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'
import { buildBrowserBundle, pageAtNode } from '../helpers/page-at-node.ts'
import { identitySwarm } from '../helpers/identity-swarm.ts'
import { rtcOptions } from '../helpers/rtc.ts'
import { acceptOffer } from '../../src/rtc/index.ts'

test.before(() => buildBrowserBundle())

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')


test('a paired page links to two Node devices over WebRTC, fetches from both, serves a track only it holds, and is refused once revoked', async (t) => {
  t.timeout(240_000)
  const root = await tempDir(t)
  const [homeA, homeB, homeOld] = await makeHomes(root, ['home-pc', 'laptop', 'old-phone']) // old-phone never runs: it is revoked below
  const music = join(root, 'music')
  await mkdir(music)
  const song = await writeNoiseWav(join(music, 'noise.wav'), 3 * 1024 * 1024, 7)
  const songSha = createHash('sha256').update(await readFile(song)).digest('hex')
  await scanHome(homeA!, music)
  await scanHome(homeB!, music)
  const onlyB = join(root, 'only-b')
  await mkdir(onlyB)
  const big = await writeNoiseWav(join(onlyB, 'big.wav'), 24 * 1024 * 1024, 8)
  const bigSha = createHash('sha256').update(await readFile(big)).digest('hex')
  await scanHome(homeB!, onlyB)
  const timings = { rosterReload: 200 }
  const a = await serveNode(t, homeA!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  let b = await serveNode(t, homeB!, ['--tracker', a.info.tracker!], { timings })
  const nodes: Record<string, NodeProcess> = { A: a, B: b }
  const tokenA = (await readApiToken(homeA!))!
  const api = async (n: NodeProcess, token: string, path: string, body?: unknown) => {
    const res = await fetch(n.info.api + path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: (await res.json()) as any }
  }

  // Pairing: the admin node makes a link; the page makes a non-extractable key and claims it.
  const link = await api(a, tokenA, '/api/pair/link', {})
  t.is(link.status, 200)
  const code = new URL(link.body.url as string).hash.slice('#pair='.length)
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await (await browser.newContext()).newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await pageAtNode(page, a.info.api)
  const paired = await page.evaluate(async (code) => {
    const w = window as unknown as { dj: any; device: any; paired: any }
    const kp = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey))
    const h = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
    const name = 'phone'
    const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', kp.privateKey, new TextEncoder().encode(`djcloud-pair-browser/v1\n${code}\n${h(pub)}\n${name}`)))
    const res = await fetch('/api/pair/browser', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, name, key: h(pub), sig: h(sig) }) })
    const body = await res.json()
    if (!res.ok) return { status: res.status, body }
    const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
    w.paired = { signer: w.dj.cryptoKeySigner(kp.privateKey, pub), certificate: b64(body.certificate), roster: b64(body.roster), circleSecret: b64(body.circleSecret), token: body.token, node: location.origin }
    return { status: res.status, device: body.device as string, token: body.token as string }
  }, code)
  t.is(paired.status, 200, JSON.stringify(paired))
  const phone = paired.device!

  // The runtime: signaling through node A, links to both Node devices.
  const started = await page.evaluate(async () => {
    const w = window as unknown as { dj: any; device: any; paired: any; warnings: string[]; store: any }
    w.warnings = []
    const store = await w.dj.BrowserTrackStore.open({ name: 'runtime-test' })
    w.store = store
    try {
      const onRoster = async (signed: Uint8Array) => {
        ;(w as unknown as { keptRoster: Uint8Array }).keptRoster = signed
      }
      w.device = await w.dj.BrowserDevice.start({ device: w.paired, store, roundMs: 500, rttPingMs: 200, answerTimeoutMs: 1_500, onRoster })
    } catch (err) {
      return String(err)
    }
    w.device.on('warning', (e: Error) => w.warnings.push(e.message))
    return 'started'
  })
  t.is(started, 'started', started === 'started' ? '' : a.stderr().slice(-3000))
  const links = async () => (await page.evaluate(() => (window as unknown as { device: any }).device.links())) as Array<{ name: string; path: string; rttMs?: number }>
  const linked = await until(async () => {
    const l = await links()
    return l.length === 2 && l.every((x) => x.rttMs !== undefined) ? l : undefined
  }, 60_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  t.deepEqual(linked.map((l) => l.name).sort(), ['home-pc', 'laptop'])
  t.true(linked.every((l) => l.path === 'webrtc'))
  // old-phone (on the roster, never running) is missing, and nobody new comes into the swarm: once a
  // round offered and linked nothing, the rounds (every 500 ms) make no offer, where each used to
  // reach the linked devices for nothing.
  const made = await page.evaluate(async () => {
    const Real = window.RTCPeerConnection
    let n = 0
    window.RTCPeerConnection = class extends Real {
      constructor(config?: RTCConfiguration) {
        super(config)
        n++
      }
    }
    await new Promise((r) => setTimeout(r, 3_000)) // a round that offers and links nothing (its answers wait 1.5 s at most)
    const settled = n
    await new Promise((r) => setTimeout(r, 4_000))
    window.RTCPeerConnection = Real
    return n - settled
  })
  t.is(made, 0, `${made} connections offered in 4 s with nobody new to reach`)
  // Both Node devices list it as a device linked over WebRTC.
  for (const [n, home] of [[a, homeA!], [b, homeB!]] as const) {
    const devices = await until(async () => {
      const d = (await api(n, (await readApiToken(home))!, '/api/devices')).body.devices as Array<{ name: string; path?: string }>
      return d.some((x) => x.name === 'phone') ? d : undefined
    }, 30_000, 200)
    t.like(devices.find((x) => x.name === 'phone'), { path: 'webrtc' })
  }

  // A track the two Node devices hold: fetched from both into OPFS.
  const got = await page.evaluate(async (sha) => {
    const w = window as unknown as { device: any }
    const r = await w.device.fetch(sha)
    const store = 'runtime-test'
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle(store)).getDirectoryHandle(sha)
    const parts: File[] = []
    for (let i = 0; ; i++) {
      try {
        parts.push(await (await dir.getFileHandle(String(i))).getFile())
      } catch {
        break
      }
    }
    const whole = new Uint8Array(await new Blob(parts).arrayBuffer())
    const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', whole))].map((b) => b.toString(16).padStart(2, '0')).join('')
    return { ...r, digest, bytes: whole.length }
  }, songSha)
  t.is(got.digest, songSha)
  t.is(got.path, `opfs:runtime-test/${songSha}`)
  t.deepEqual(Object.keys(got.sources).sort(), ['home-pc', 'laptop'], JSON.stringify(got.sources))
  t.true(Object.values(got.sources as Record<string, number>).every((n) => n > 0), JSON.stringify(got.sources))
  t.is(Object.values(got.sources as Record<string, number>).reduce((x, y) => x + y, 0), got.bytes)

  // The only holder of a track goes away in the middle of its fetch: the fetch fails, it does not wait for ever;
  // and once that device is back, the page's next round links it again.
  const stranded = page.evaluate(async (sha) => {
    try {
      await (window as unknown as { device: any }).device.fetch(sha)
      return 'fetched'
    } catch (err) {
      return `${(err as { code?: string }).code}: ${(err as Error).message}`
    }
  }, bigSha)
  await until(async () => {
    const s = (await page.evaluate(() => (window as unknown as { device: any }).device.streams())) as Array<{ sources: Record<string, number> }>
    return s.some((x) => (x.sources.laptop ?? 0) > 0) ? true : undefined
  }, 30_000, 20)
  await b.stop()
  t.regex(await stranded, /^ERR_CONNECT: every device holding this track went away/)
  await until(async () => ((await links()).map((l) => l.name).join() === 'home-pc' ? true : undefined), 30_000, 200)
  b = nodes.B = await serveNode(t, homeB!, ['--tracker', a.info.tracker!], { timings })
  await until(async () => ((await links()).length === 2 ? true : undefined), 60_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))

  // A track only the page holds: node B fetches it from the page.
  const { circleSecret } = await loadIdentity(homeA!)
  const only = await randomTrackFile(root, 700 * 1024 + 11, circleSecret)
  const info = hex(encodeInfoDict(only.meta, circleSecret))
  const m = only.meta
  await page.evaluate(async ({ data, meta, info }) => {
    const w = window as unknown as { store: any; Buffer: typeof Buffer }
    const B = w.Buffer
    const store = w.store // the device's own store: what it holds is what it serves
    const mt = { ...meta, infoHash: B.from(meta.infoHash, 'hex'), pieces: B.from(meta.pieces, 'hex') }
    const bytes = B.from(data, 'hex')
    const p = await store.fetchInto(mt)
    for (let i = 0; i < mt.pieceCount; i++) await p.writePiece(i, Uint8Array.from(bytes.subarray(i * mt.pieceLength, Math.min(mt.size, (i + 1) * mt.pieceLength))))
    await (await p.complete()).source.close()
  }, { data: only.bytes.toString('hex'), meta: { infoHash: hex(m.infoHash), sha256: m.sha256, size: m.size, pieceLength: m.pieceLength, pieces: hex(m.pieces), pieceCount: m.pieceCount }, info })
  const held = await page.evaluate(async ({ sha, info }) => {
    const w = window as unknown as { device: any; Buffer: typeof Buffer }
    try {
      await w.device.hold(sha, w.Buffer.from(info, 'hex'))
      return 'held'
    } catch (err) {
      return String(err)
    }
  }, { sha: m.sha256, info })
  t.is(held, 'held')
  const tokenB = (await readApiToken(homeB!))!
  const fetched = await api(b, tokenB, '/api/fetch', { sha256: m.sha256 })
  t.is(fetched.status, 200, JSON.stringify(fetched.body))
  t.is(createHash('sha256').update(await readFile(fetched.body.path as string)).digest('hex'), m.sha256)
  t.deepEqual(Object.keys(fetched.body.sources as object), ['phone'])

  // A roster made after the page paired (another device revoked) reaches it from a linked device: verified,
  // trusted from then on, and handed over to be kept.
  const oldPhone = hex((await loadIdentity(homeOld!)).device.publicKey)
  await cli(homeA!, ['trust', 'revoke', formatId('device', Buffer.from(oldPhone, 'hex'))])
  const newer = (await loadIdentity(homeA!)).roster
  const seen = await until(async () => {
    const r = await page.evaluate(() => {
      const w = window as unknown as { device: any; keptRoster?: Uint8Array }
      return { seq: w.device.roster.seq as number, revoked: (w.device.roster.revoked as Uint8Array[]).map((k) => Array.from(k, (x) => x.toString(16).padStart(2, '0')).join('')), kept: w.keptRoster ? w.keptRoster.length : 0 }
    })
    return r.seq === newer.seq ? r : undefined
  }, 60_000, 200).catch(async (err: Error) => Promise.reject(withLogs(new Error(`${err.message}; the page's warnings: ${JSON.stringify(await page.evaluate(() => (window as unknown as { warnings: string[] }).warnings))}`), nodes)))
  t.true(seen.revoked.includes(oldPhone))
  t.true(seen.kept > 0, 'the new roster was handed over to be kept')
  t.is((await links()).length, 2, 'still linked to both')

  // Revoked: the Node devices drop its links, and signaling refuses it.
  await cli(homeA!, ['trust', 'revoke', formatId('device', Buffer.from(phone, 'hex'))])
  await until(async () => ((await links()).length === 0 ? true : undefined), 60_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  const refused = await page.evaluate(async (token) => {
    const w = window as unknown as { dj: any; paired: any }
    const tryStart = async (paired: unknown) => {
      const store = await w.dj.BrowserTrackStore.open({ name: 'runtime-test-2' })
      try {
        const d = await w.dj.BrowserDevice.start({ device: paired, store, roundMs: 500 })
        d.close()
        return 'started'
      } catch (err) {
        return (err as { code?: string }).code + ': ' + (err as Error).message
      }
    }
    // Its own token: the node refuses the relay. The node's token (the relay then opens): the tracker refuses its announce.
    return { own: await tryStart(w.paired), relayed: await tryStart({ ...w.paired, token }) }
  }, tokenA)
  t.regex(refused.own, /^ERR_SIGNAL_REFUSED: .*token is not accepted/)
  t.regex(refused.relayed, /^ERR_SIGNAL_REFUSED: the tracker refused/)
  // On the wire: a connection that reaches a Node device anyway (signaled here by hand, past the relay and
  // the tracker) is refused by that device's roster on stream 0, and the page gets no link.
  const revokedRoster = await loadIdentity(homeA!) // the roster `trust revoke` wrote
  t.true(revokedRoster.roster.revoked.some((k) => hex(k) === phone))
  const wireNode = await identitySwarm(t, revokedRoster, join(root, 'wire-cache'))
  wireNode.on('warning', () => {})
  const refusedOnWire: string[] = []
  wireNode.on('refused', (host: string, reason: string) => refusedOnWire.push(`${host} ${reason}`))
  const offerSdp = await page.evaluate(async () => {
    const w = window as unknown as { dj: any; pending: any }
    w.pending = await w.dj.createOffer({ peerConnection: (c: RTCConfiguration) => new RTCPeerConnection(c) })
    return w.pending.sdp as string
  })
  const answer = await acceptOffer(offerSdp, await rtcOptions())
  const nodeSide = answer.connection.then((c) => wireNode.addRtc(c)).then(() => 'linked', (err: Error & { reason?: string }) => err.reason ?? err.message)
  const pageSide = await page.evaluate(async (sdp) => {
    const w = window as unknown as { device: any; pending: any }
    try {
      await w.device.adopt(await w.pending.accept(sdp))
      return 'linked'
    } catch (err) {
      return (err as Error).message
    }
  }, answer.sdp)
  t.is(await nodeSide, 'revoked')
  t.not(pageSide, 'linked', pageSide)
  t.deepEqual(refusedOnWire, ['webrtc revoked'])
  // Its own rounds keep trying: refused by the node, and no link comes back.
  await until(async () => ((await page.evaluate(() => (window as unknown as { warnings: string[] }).warnings)).some((w) => /token is not accepted/.test(w)) ? true : undefined), 30_000, 200)
  t.deepEqual(await links(), [])
  t.deepEqual(errors, [])
})
