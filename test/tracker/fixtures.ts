// Circles of devices built in memory, and a real admission tracker on
// 127.0.0.1 per test. Not a test file (ava runs *.test.ts only).
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import type { ExecutionContext } from 'ava'
import {
  addDevice, addFriend, encodeCertificate, generateKeyPair, issueCertificate, newRoster, type DeviceCertificate, type KeyPair, type Roster,
} from '../../src/identity/index.ts'
import { AnnounceError, announceUrl, type AnnounceOptions, type AnnounceProof, type AnnounceSigner } from '../../src/swarm/index.ts'
import { decode, type BDict } from '../../src/codec/index.ts'
import { createAdmissionTracker, type AdmissionTracker, type AdmissionTrackerOptions } from '../../tracker/index.ts'

export interface TestDevice {
  key: KeyPair
  cert: DeviceCertificate
  signer: AnnounceSigner
}

export function deviceOf(owner: KeyPair, name: string): TestDevice {
  const key = generateKeyPair()
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
  /** http://127.0.0.1:PORT */
  base: string
  /** http://127.0.0.1:PORT/announce */
  url: string
  ws: string
}

/** A real tracker on 127.0.0.1:0, closed when the test ends; any warning fails the test. */
export async function startTracker(t: ExecutionContext, opts: Partial<AdmissionTrackerOptions> & { roster: Roster }): Promise<RunningTracker> {
  const tracker = createAdmissionTracker({ token: TOKEN, ...opts })
  tracker.on('warning', (err: Error) => t.fail(`tracker warning: ${err.message}`))
  t.teardown(() => tracker.close())
  const { httpPort } = await tracker.listen(0, '127.0.0.1')
  const base = `http://127.0.0.1:${httpPort}`
  return { tracker, port: httpPort, base, url: `${base}/announce`, ws: `ws://127.0.0.1:${httpPort}` }
}

export const newInfoHash = () => randomBytes(20)
export const newPeerId = () => Buffer.concat([Buffer.from('-DJ0100-'), randomBytes(12)])

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close', ...headers } }, (res) => {
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
