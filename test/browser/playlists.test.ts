/// <reference lib="dom" />
// A browser device edits playlists as itself (docs/browser.md, "Playlists:
// the page writes as itself"), end to end: two real `djcloud serve`
// processes on 127.0.0.1 and a paired page in Debian's Chromium running the
// protocol bundle (dist/browser). The page makes and edits a playlist with
// no device linked, is reloaded (its edits come back from IndexedDB), edits
// again, then links: both Node devices take its signed root and playlist in
// (their /api/playlists/<name> shows its entries in order). A move made in
// the page while a Node device adds a track at the same time merges the
// same on both Node devices and in the page. What a linked device sends the
// page is verified there as on a Node device: a forged root and a root
// naming another playlist blob are refused and change nothing.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readApiToken } from '../../src/player/index.ts'
import { encode } from '../../src/codec/index.ts'
import { encodeCertificate, generateKeyPair, loadIdentity, signBytes } from '../../src/identity/index.ts'
import { editsToBody, emptyEdits, encodeManifest, packBlob, rootToBody } from '../../src/manifest/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode, withLogs, type NodeProcess } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'
import { buildBrowserBundle, loadBundle, pageAtNode } from '../helpers/page-at-node.ts'

test.before(() => buildBrowserBundle())


interface Ref {
  sha256: string
  audio: string
  title?: string
}

test('a playlist edited in a paired page, offline and across a reload, reaches two Node devices and merges with a Node device\'s concurrent edit', async (t) => {
  t.timeout(240_000)
  const root = await tempDir(t)
  const [homeA, homeB] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  for (let i = 0; i < 4; i++) await writeNoiseWav(join(music, `t${i}.wav`), 64 * 1024, 20 + i)
  await scanHome(homeA!, music)
  await scanHome(homeB!, music)
  const timings = { rosterReload: 200 }
  const a = await serveNode(t, homeA!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const b = await serveNode(t, homeB!, ['--tracker', a.info.tracker!], { timings })
  const nodes: Record<string, NodeProcess> = { A: a, B: b }
  const tokens = new Map([[a, (await readApiToken(homeA!))!], [b, (await readApiToken(homeB!))!]])
  const api = async (n: NodeProcess, path: string, body?: unknown) => {
    const res = await fetch(n.info.api + path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${tokens.get(n)}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: (await res.json()) as any }
  }
  // The tracks, with the fields a playlist entry keeps (as the UI has them from /api/library).
  const lib = (await api(a, '/api/library')).body.tracks as Array<{ sha256: string; audioHash: string; title?: string }>
  t.is(lib.length, 4)
  const refs: Ref[] = lib.map((x) => ({ sha256: x.sha256, audio: x.audioHash, ...(x.title ? { title: x.title } : {}) }))
  const [t0, t1, t2, t3] = refs as [Ref, Ref, Ref, Ref]

  const link = await api(a, '/api/pair/link', {})
  t.is(link.status, 200)
  const code = new URL(link.body.url as string).hash.slice('#pair='.length)
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await (await browser.newContext()).newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await pageAtNode(page, a.info.api)

  // Pairing: a non-extractable key, kept in IndexedDB with what pairing gave (as src/ui/device keeps it).
  const paired = await page.evaluate(async (code) => {
    const kp = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey))
    const h = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
    const name = 'phone'
    const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', kp.privateKey, new TextEncoder().encode(`djcloud-pair-browser/v1\n${code}\n${h(pub)}\n${name}`)))
    const res = await fetch('/api/pair/browser', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, name, key: h(pub), sig: h(sig) }) })
    const body = await res.json()
    if (!res.ok) return { status: res.status, body }
    const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
    const kept = { privateKey: kp.privateKey, pub, certificate: b64(body.certificate), roster: b64(body.roster), circleSecret: b64(body.circleSecret), token: body.token }
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('pl-test-device', 1)
      req.onupgradeneeded = () => req.result.createObjectStore('d')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    await new Promise((resolve, reject) => {
      const tx = db.transaction('d', 'readwrite')
      tx.objectStore('d').put(kept, 'device')
      tx.oncomplete = resolve
      tx.onerror = () => reject(tx.error)
    })
    db.close()
    return { status: res.status, device: body.device as string }
  }, code)
  t.is(paired.status, 200, JSON.stringify(paired))

  /** The device from IndexedDB, and the page's playlists opened (what a page load does). */
  const load = () =>
    page.evaluate(async () => {
      const w = window as unknown as { dj: any; paired: any; playlists: any; warnings: string[] }
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('pl-test-device', 1)
        req.onsuccess = () => resolve(req.result)
        req.onerror = () => reject(req.error)
      })
      const kept = await new Promise<any>((resolve, reject) => {
        const req = db.transaction('d', 'readonly').objectStore('d').get('device')
        req.onsuccess = () => resolve(req.result)
        req.onerror = () => reject(req.error)
      })
      db.close()
      w.paired = { signer: w.dj.cryptoKeySigner(kept.privateKey, kept.pub), certificate: kept.certificate, roster: kept.roster, circleSecret: kept.circleSecret, token: kept.token, node: location.origin }
      w.warnings = []
      w.playlists = await w.dj.PagePlaylists.open({ name: 'pl-test', device: w.paired })
      w.playlists.on('warning', (e: Error) => w.warnings.push(e.message))
    })
  const pageView = () => page.evaluate(() => (window as unknown as { playlists: any }).playlists.playlist('warm-up')) as Promise<{ entries: Array<{ id: string; track: Ref }> } | null>
  await load()

  // Offline (no device linked, no runtime even): a playlist made and edited, kept in IndexedDB.
  const made = await page.evaluate(async ([x, y]) => {
    const p = (window as unknown as { playlists: any }).playlists
    await p.create('warm-up')
    return p.addTracks('warm-up', [x, y])
  }, [t0, t1])
  t.deepEqual(made.entries.map((e: { track: Ref }) => e.track.sha256), [t0.sha256, t1.sha256])

  // A reload: the edits come back; one more edit made before any link.
  await page.reload()
  await loadBundle(page)
  await load()
  t.deepEqual((await pageView())?.entries.map((e) => e.track.sha256), [t0.sha256, t1.sha256], 'the edits survive a reload')
  await page.evaluate((z) => (window as unknown as { playlists: any }).playlists.addTracks('warm-up', [z]), t2)
  for (const n of [a, b]) t.is((await api(n, '/api/playlists/warm-up')).status, 404, 'nothing reached a Node device before a link')

  // Linked: the page's root goes to both Node devices, which take its playlist in.
  const started = await page.evaluate(async () => {
    const w = window as unknown as { dj: any; paired: any; playlists: any; device: any; deviceWarnings: string[] }
    const store = await w.dj.BrowserTrackStore.open({ name: 'pl-test-tracks' })
    try {
      w.device = await w.dj.BrowserDevice.start({ device: w.paired, store, playlists: w.playlists, roundMs: 500, rttPingMs: 200, answerTimeoutMs: 5_000 })
    } catch (err) {
      return String(err)
    }
    // Kept apart: the device passes the playlists' warnings on too.
    w.deviceWarnings = []
    w.device.on('warning', (e: Error) => w.deviceWarnings.push(e.message))
    return 'started'
  })
  t.is(started, 'started', started === 'started' ? '' : a.stderr().slice(-3000))
  const self = (await page.evaluate(() => (window as unknown as { playlists: any }).playlists.self)) as string
  const shas = async (n: NodeProcess) => {
    const r = await api(n, '/api/playlists/warm-up')
    return r.status === 200 ? (r.body.playlist.entries as Array<{ id: string; ref: Ref }>) : null
  }
  for (const n of [a, b]) {
    const entries = await until(async () => {
      const e = await shas(n)
      return e && e.length === 3 ? e : undefined
    }, 60_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
    t.deepEqual(entries.map((e) => e.ref.sha256), [t0.sha256, t1.sha256, t2.sha256])
    t.true(entries.every((e) => e.id.startsWith(`${self}.`)), 'the entries are the page\'s, by its device key')
  }
  const list = (await api(b, '/api/playlists')).body.playlists as Array<{ name: string; tracks: number; editedBy: number }>
  t.like(list.find((p) => p.name === 'warm-up'), { tracks: 3, editedBy: 1 })

  // At once: the page moves its third entry to the top while laptop adds a track at the top.
  const third = (await pageView())!.entries[2]!.id
  const [moved, added] = await Promise.all([
    page.evaluate((id) => (window as unknown as { playlists: any }).playlists.move('warm-up', id, 0), third),
    api(b, '/api/playlists/warm-up/tracks', { tracks: [t3.sha256], at: 0 }),
  ])
  t.is(moved.entries[0].id, third)
  t.is(added.status, 200)
  // The page's merge is final once it took laptop's edit in (it has its own move already);
  // both Node devices come to the same, with both edits kept.
  const inPage = await until(async () => {
    const s = (await pageView())?.entries.map((e) => e.track.sha256)
    return s?.length === 4 ? s : undefined
  }, 30_000, 200)
  for (const n of [a, b]) {
    const got = await until(async () => {
      const m = (await shas(n))?.map((x) => x.ref.sha256)
      return m && JSON.stringify(m) === JSON.stringify(inPage) ? m : undefined
    }, 30_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
    t.deepEqual(got, inPage)
  }
  t.deepEqual([...inPage].sort(), [t0, t1, t2, t3].map((x) => x.sha256).sort())
  t.true(inPage.indexOf(t2.sha256) < inPage.indexOf(t0.sha256), 'the page\'s move holds')
  t.true(inPage.indexOf(t3.sha256) < inPage.indexOf(t0.sha256), 'laptop\'s insert holds')
  t.true(inPage.indexOf(t0.sha256) < inPage.indexOf(t1.sha256))
  t.is((await api(a, '/api/playlists')).body.playlists.find((p: { name: string }) => p.name === 'warm-up').editedBy, 2)
  t.deepEqual(await page.evaluate(() => (window as unknown as { deviceWarnings: string[] }).deviceWarnings.filter((w) => /refused a library/.test(w))), [])
  // Hostile roots "from" home-pc, handed to the page as a notice and its blobs would be: refused, nothing kept.
  const id = await loadIdentity(homeA!)
  const cert = encodeCertificate(id.certificate)
  const page0 = packBlob(encode({ tracks: [] }), id.circleSecret)
  const realPlaylist = packBlob(encodeManifest({ kind: 'playlist', name: 'warm-up', seq: 90, created: Date.now(), body: editsToBody(emptyEdits()) }, { deviceSeed: id.device.seed, certificate: cert }), id.circleSecret)
  const otherPlaylist = packBlob(encodeManifest({ kind: 'playlist', name: 'warm-up', seq: 91, created: Date.now(), body: editsToBody(emptyEdits()) }, { deviceSeed: id.device.seed, certificate: cert }), id.circleSecret)
  const rootBody = rootToBody({ pages: [page0.sha256], count: 0, playlists: [{ name: 'warm-up', seq: 90, blob: realPlaylist.sha256 }] })
  const unsigned = { type: 'djcloud-manifest', v: 1, kind: 'library', seq: 900, created: Date.now(), cert, body: rootBody }
  // Signed by another key under home-pc's certificate.
  const forged = packBlob(encode({ ...unsigned, sig: signBytes(generateKeyPair().seed, encode(unsigned)) }), id.circleSecret)
  // Signed by home-pc, but the bytes served for its playlist are another version.
  const swapped = packBlob(encodeManifest({ kind: 'library', seq: 901, created: Date.now(), body: rootBody }, { deviceSeed: id.device.seed, certificate: cert }), id.circleSecret)
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
  const before = await pageView()
  for (const [root, code] of [[forged, 'ERR_BAD_SIGNATURE'], [swapped, 'ERR_MISMATCH']] as const) {
    const blobs = { [root.infoHash]: b64(root.data), [page0.sha256]: b64(page0.data), [realPlaylist.sha256]: b64(otherPlaylist.data) }
    const r = await page.evaluate(async ({ notice, blobs }) => {
      const w = window as unknown as { playlists: any; warnings: string[] }
      const n = w.warnings.length
      const fetch = async (id: string) => (blobs[id] ? Uint8Array.from(atob(blobs[id]!), (c) => c.charCodeAt(0)) : null)
      const took = await w.playlists.take(notice, fetch)
      return { took, warnings: w.warnings.slice(n) }
    }, { notice: { kind: 'library', signer: Buffer.from(id.device.publicKey).toString('hex'), infoHash: root.infoHash, seq: root === forged ? 900 : 901 }, blobs })
    t.false(r.took, code)
    t.is(r.warnings.length, 1, JSON.stringify(r.warnings))
    t.regex(r.warnings[0]!, new RegExp(`refused a library from .*${code}`))
  }
  t.deepEqual(await pageView(), before, 'the page\'s playlist is as it was')
  t.deepEqual(errors, [])
  await page.evaluate(() => (window as unknown as { device: any }).device.close())
})
