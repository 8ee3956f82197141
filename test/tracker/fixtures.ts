// Circles of devices built in memory, and a real admission tracker on
// 127.0.0.1 per test, run with the key of the first device of its roster.
// Not a test file (ava runs *.test.ts only).
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { ExecutionContext } from 'ava'
import {
  addDevice, addFriend, encodeCertificate, generateKeyPair, issueCertificate, newRoster, type DeviceCertificate, type KeyPair, type Roster,
} from '../../src/identity/index.ts'
import {
  AnnounceError, announce as swarmAnnounce, announceUrl, type AnnounceOptions, type AnnounceProof, type AnnounceResult, type AnnounceSigner,
} from '../../src/swarm/index.ts'
import { decode, type BDict } from '../../src/codec/index.ts'
import { createAdmissionTracker, type AdmissionTracker, type AdmissionTrackerOptions } from '../../tracker/index.ts'

export interface TestDevice {
  key: KeyPair
  cert: DeviceCertificate
  signer: AnnounceSigner
}

/** Device seeds by hex device key, so a tracker can run as the first device of a roster. */
const seeds = new Map<string, Uint8Array>()
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export function deviceOf(owner: KeyPair, name: string): TestDevice {
  const key = generateKeyPair()
  seeds.set(hex(key.publicKey), key.seed)
  const cert = issueCertificate(owner.seed, { owner: owner.publicKey, device: key.publicKey, name, role: 'member', created: Date.now() })
  return { key, cert, signer: { seed: key.seed, certificate: encodeCertificate(cert) } }
}

/** An owner with two own devices, a friend (another owner) with one device, and a stranger with one. */
export function makeCircle() {
  const owner = generateKeyPair()
  const laptop = deviceOf(owner, 'laptop')
  const pc = deviceOf(owner, 'home-pc')
  const friendOwner = generateKeyPair()
  const friend = deviceOf(friendOwner, 'ana-laptop')
  const strangerOwner = generateKeyPair()
  const stranger = deviceOf(strangerOwner, 'stranger')
  const roster: Roster = addFriend(addDevice(newRoster(owner.publicKey, laptop.cert), pc.cert), friendOwner.publicKey, 'Ana')
  return { owner, laptop, pc, friendOwner, friend, stranger, roster }
}

export const TOKEN = 'operator-token-for-tests-0123456789'

export interface RunningTracker {
  tracker: AdmissionTracker
  port: number
  /** https://127.0.0.1:PORT */
  base: string
  /** https://127.0.0.1:PORT/announce */
  url: string
  /** wss://127.0.0.1:PORT */
  ws: string
}

/** The trackers running, by origin: announce() below pins each to the roster it serves. */
const running = new Map<string, AdmissionTracker>()

/**
 * A real tracker on 127.0.0.1:0, closed when the test ends; any warning fails
 * the test. It runs with the device key of the roster's first device unless
 * `deviceSeed` says otherwise.
 */
export async function startTracker(t: ExecutionContext, opts: Partial<AdmissionTrackerOptions> & { roster: Roster }): Promise<RunningTracker> {
  const deviceSeed = opts.deviceSeed ?? seeds.get(hex(opts.roster.devices[0]!.device))
  if (!deviceSeed) throw new Error('the roster\'s first device was not made by deviceOf(): pass deviceSeed')
  const tracker = createAdmissionTracker({ token: TOKEN, ...opts, deviceSeed })
  tracker.on('warning', (err: Error) => t.fail(`tracker warning: ${err.message}`))
  const { port } = await tracker.listen(0, '127.0.0.1')
  const base = `https://127.0.0.1:${port}`
  running.set(base, tracker)
  t.teardown(() => {
    running.delete(base)
    return tracker.close()
  })
  return { tracker, port, base, url: `${base}/announce`, ws: `wss://127.0.0.1:${port}` }
}

/** announce() pinned to the roster the tracker at that URL serves (its own key is on it). */
export function announce(url: string, o: AnnounceOptions): Promise<AnnounceResult> {
  const tracker = running.get(new URL(url).origin)
  return swarmAnnounce(url, { ...(tracker ? { roster: tracker.roster } : {}), ...o })
}

export const newInfoHash = () => randomBytes(20)
export const newPeerId = () => Buffer.concat([Buffer.from('-DJ0100-'), randomBytes(12)])

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** A GET over http or https (any certificate: these are raw requests, not announces). */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsRequest : request
    const req = get(url, { agent: false, rejectUnauthorized: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** An announce with raw extra query text appended (repeated or extra keys); returns the decoded reply. */
export async function rawAnnounce(base: string, o: AnnounceOptions, proof: AnnounceProof | undefined, extra = ''): Promise<BDict> {
  const url = announceUrl(base, o, proof)
  if (extra) url.search += `&${extra}`
  const res = await httpGet(url.href)
  return decode(res.body) as BDict
}

/** Asserts that the announce was refused with exactly this failure reason. */
export async function refused(t: ExecutionContext, p: Promise<unknown>, reason: string, what = reason): Promise<void> {
  const err = await t.throwsAsync(p, { instanceOf: AnnounceError }, what)
  t.is(err?.code, 'ERR_TRACKER_REFUSED', what)
  t.is(err?.reason, reason, what)
}
