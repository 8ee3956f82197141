// Pairing: an admin device lets a new device into the circle.
//
// The admin opens a short-lived TCP listener and shows a one-time code
// (address, its device key, a 128-bit secret). The new device connects,
// and over one connection:
//
//   joiner -> host   hello  {e: joiner X25519 key}
//   host -> joiner   hello  {e: host X25519 key, device: host device key}
//   joiner -> host   proof  {mac: HMAC(joiner-confirm key, transcript)}
//   host -> joiner   proof  {mac: HMAC(host-confirm key, transcript), sig: host device key over transcript}
//   joiner -> host   [join]    {device, name, sig: joiner device key over transcript}
//   host -> joiner   [welcome] {cert, roster, circle}
//   joiner -> host   [ack]
//
// [..] frames are AES-256-GCM sealed under keys derived (pairing-wire.ts) from
// the X25519 secret, the pairing secret and the transcript. The joiner proves
// first, so a host never answers a wrong secret with anything keyed by the
// right one; the host's signature by the device key named in the code defeats
// a man in the middle who saw the code. See docs/identity.md, "Pairing (as built)".
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { networkInterfaces } from 'node:os'
import { asBytes, asString, encode, fieldList, onlyFields, type FieldList } from '../codec/index.ts'
import { decodeCertificate, encodeCertificate, type DeviceCertificate } from './certificate.ts'
import { IdentityError } from './errors.ts'
import { certifyDevice } from './certify.ts'
import type { Identity } from './identity-store.ts'
import { formatId, shortId } from './ids.ts'
import { generateKeyPair, signBytes, verifyBytes, type KeyPair } from './keys.ts'
import { verifyRoster, type Roster } from './roster.ts'
import { decodePairingCode, encodePairingCode, newPairingSecret, type PairingCode } from './pairing-code.ts'
import { PairingError, type PairingErrorCode } from './pairing-errors.ts'
import {
  confirmation, decodeMessage, deriveSessionKeys, encodeMessage, FrameStream, newEphemeral, sameBytes, SealedDirection,
  SMALL_FRAME_BYTES, WELCOME_FRAME_BYTES, type Message,
} from './pairing-wire.ts'

export const PAIRING_DEFAULTS = {
  ttlMs: 5 * 60_000, // ms a code stays valid
  maxAttempts: 3, // wrong secrets before the code is burned
  handshakeTimeoutMs: 10_000, // ms one connection may take, host side
  helloTimeoutMs: 3_000, // ms a connection may stay silent before its first frame, host side
  joinTimeoutMs: 20_000, // ms the joiner waits in all, connecting included
  maxPendingConnections: 8, // unauthenticated connections held at once; a newcomer evicts one
  listen: '0.0.0.0',
} as const

const MAX_NAME_BYTES = 64 // as in certificate.ts
const MAX_ERROR_TEXT = 200

/** What the admin sees of the new device before it is certified. */
export interface PairingPeer {
  /** The new device's public key. */
  device: Uint8Array
  name: string
  /** shortId of the device key: compare with the new device's screen. */
  fingerprint: string
  deviceId: string
  /** Remote address and port, for logs. */
  address: string
}

export interface PairingResult extends PairingPeer {
  certificate: DeviceCertificate
  /** The admin's identity with the new roster (seq + 1) that lists the device. */
  identity: Identity
}

export interface PairingWarning {
  address: string
  reason: string
  error?: Error
}

export interface PairingHostOptions {
  /** An admin identity (holding the owner key), loaded from its home. */
  identity: Identity
  /** How long the code is valid; default 5 minutes. */
  ttlMs?: number
  /** Address to listen on; default 0.0.0.0 (all interfaces). */
  listen?: string
  /** Port; default 0 (the OS picks one). */
  port?: number
  /** Host written into the code; default the listen address if specific, else the first LAN IPv4. */
  address?: string
  /** Wrong secrets before the code is burned; default 3. */
  maxAttempts?: number
  /** Deadline of one connection; default 10 s. */
  handshakeTimeoutMs?: number
  /** Deadline for a connection's first frame (the joiner's hello); default 3 s. */
  helloTimeoutMs?: number
  /** Connections held before one proves the secret; a newcomer evicts one over this; default 8. */
  maxPendingConnections?: number
  /** Called once the new device has proven the secret and its key, before it is certified. */
  onFingerprint?: (peer: PairingPeer) => void
  /** Refused or failed connections that do not end the pairing (wrong secret, timeouts). */
  onWarning?: (warning: PairingWarning) => void
  signal?: AbortSignal
}

export interface PairingHost {
  /** The one-time code to show (text; also what the QR code holds). */
  readonly code: string
  /** host:port written into the code. */
  readonly address: string
  /** The address and port actually listened on. */
  readonly listening: { host: string; port: number }
  /** ms since the epoch. */
  readonly expires: number
  /** shortId of this (admin) device: the new device shows it too. */
  readonly fingerprint: string
  /** Settles once: the new device joined, or the code expired, was burned or cancelled. */
  readonly done: Promise<PairingResult>
  /** Stops listening; a pending `done` rejects with ERR_PAIRING_ABORTED. Idempotent. */
  close(): Promise<void>
}

export interface JoinOptions {
  /** This device's name on the roster (1-64 bytes). */
  name: string
  /** This device's key; default a fresh one. */
  device?: KeyPair
  /** Called once the admin device has proven itself, with its fingerprint. */
  onFingerprint?: (host: { fingerprint: string; deviceId: string }) => void
  /** Whole join deadline, connecting included; default 20 s. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface JoinResult {
  device: KeyPair
  certificate: DeviceCertificate
  roster: Roster
  /** The roster exactly as the owner signed it (what saveJoinedIdentity stores). */
  rosterBytes: Uint8Array
  circleSecret: Uint8Array
  /** shortId of the admin device: compare with its screen. */
  hostFingerprint: string
  hostDeviceId: string
  hostName: string
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b)
const hostSigned = (transcript: Uint8Array) => encode({ type: 'djcloud-pair-host', v: 1, transcript })
const joinerSigned = (transcript: Uint8Array) => encode({ type: 'djcloud-pair-joiner', v: 1, transcript })

/** Trims a device name and checks it fits a certificate. */
export function checkDeviceName(name: string): string {
  const trimmed = name.trim()
  if (!trimmed || Buffer.byteLength(trimmed) > MAX_NAME_BYTES) {
    throw new PairingError('ERR_PAIRING_BAD_NAME', `a device name must be 1-${MAX_NAME_BYTES} bytes`)
  }
  return trimmed
}

/** The first non-internal IPv4 address of this machine, else 127.0.0.1. */
export function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if ((a.family === 'IPv4' || (a.family as unknown) === 4) && !a.internal) return a.address
    }
  }
  return '127.0.0.1'
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)

/** Starts listening and returns the code to show. Needs an admin identity. */
export async function startPairingHost(opts: PairingHostOptions): Promise<PairingHost> {
  if (!opts.identity.owner) {
    throw new IdentityError('ERR_NOT_ADMIN', 'pairing needs an admin device (one holding the owner key); run "djcloud pair" on an admin device')
  }
  if (opts.signal?.aborted) throw new PairingError('ERR_PAIRING_ABORTED', 'pairing was cancelled')
  const host = new Host(opts)
  await host.listen()
  return host.view()
}

type HostState = 'open' | 'claimed' | 'ended'

/** A connection that has not proven the secret yet. */
interface Pending {
  frames: FrameStream
  ip: string
  address: string
  opened: number
  /** Its hello arrived: it is not silent. */
  heard: boolean
}

/**
 * Which pending connection a newcomer evicts when the cap is reached: a
 * silent one before one that spoke, one from the most crowded address before
 * one from an address with fewer, the oldest last. A flood from one address
 * thus evicts itself, and a real joiner (which says hello at once) is evicted
 * only by a flood from many addresses faster than its own round trips.
 */
export function pickEviction<T extends { ip: string; opened: number; heard: boolean }>(pending: Iterable<T>): T | undefined {
  const list = [...pending]
  const crowd = new Map<string, number>()
  for (const p of list) crowd.set(p.ip, (crowd.get(p.ip) ?? 0) + 1)
  let pick: T | undefined
  for (const p of list) {
    if (!pick) {
      pick = p
      continue
    }
    const byHeard = Number(p.heard) - Number(pick.heard)
    const byCrowd = crowd.get(pick.ip)! - crowd.get(p.ip)!
    if (byHeard < 0 || (byHeard === 0 && (byCrowd < 0 || (byCrowd === 0 && p.opened < pick.opened)))) pick = p
  }
  return pick
}

class Host {
  private readonly server: Server
  private readonly secret = newPairingSecret()
  private readonly ttlMs: number
  private readonly maxAttempts: number
  private readonly handshakeTimeoutMs: number
  private readonly helloTimeoutMs: number
  private readonly maxPending: number
  private readonly sockets = new Set<Socket>()
  private readonly pending = new Map<Socket, Pending>()
  private opened = 0
  private state: HostState = 'open'
  private attempts = 0
  private expiry: NodeJS.Timeout | undefined
  private code = ''
  private address = ''
  private expires = 0
  private listening = { host: '', port: 0 }
  private resolve!: (r: PairingResult) => void
  private reject!: (e: Error) => void
  private readonly done: Promise<PairingResult>
  private readonly closed: Promise<void>
  private readonly onAbort = () => void this.close()

  constructor(private readonly opts: PairingHostOptions) {
    this.ttlMs = opts.ttlMs ?? PAIRING_DEFAULTS.ttlMs
    this.maxAttempts = opts.maxAttempts ?? PAIRING_DEFAULTS.maxAttempts
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? PAIRING_DEFAULTS.handshakeTimeoutMs
    this.helloTimeoutMs = opts.helloTimeoutMs ?? PAIRING_DEFAULTS.helloTimeoutMs
    this.maxPending = opts.maxPendingConnections ?? PAIRING_DEFAULTS.maxPendingConnections
    if (!Number.isInteger(this.maxPending) || this.maxPending < 1) throw new RangeError('maxPendingConnections must be a positive integer')
    if (!(this.ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new RangeError('maxAttempts must be a positive integer')
    this.done = new Promise<PairingResult>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.done.catch(() => {}) // callers that never await done must not crash the process
    // No server.maxConnections: it refuses newcomers, so silent clients would
    // lock a real joiner out. accept() evicts a pending connection instead.
    this.server = createServer((socket) => this.accept(socket))
    this.closed = new Promise((resolve) => this.server.once('close', () => resolve()))
  }

  async listen(): Promise<void> {
    const listen = this.opts.listen ?? PAIRING_DEFAULTS.listen
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host: listen, port: this.opts.port ?? 0 }, () => {
        this.server.removeListener('error', reject)
        resolve()
      })
    })
    this.server.on('error', (err) => this.fail(err))
    const bound = this.server.address()
    if (!bound || typeof bound === 'string') throw new Error('the pairing listener has no TCP address')
    this.listening = { host: bound.address, port: bound.port }
    const specific = listen !== '0.0.0.0' && listen !== '::' && listen !== ''
    const advertised = this.opts.address ?? (specific ? listen : lanAddress())
    this.address = hostPort(advertised, bound.port)
    this.expires = Date.now() + this.ttlMs
    this.code = encodePairingCode({
      host: advertised,
      port: bound.port,
      deviceKey: this.opts.identity.device.publicKey,
      secret: this.secret,
      expires: this.expires,
    })
    this.expiry = setTimeout(() => this.expire(), this.ttlMs)
    this.expiry.unref()
    this.opts.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  view(): PairingHost {
    return {
      code: this.code,
      address: this.address,
      listening: this.listening,
      expires: this.expires,
      fingerprint: shortId(this.opts.identity.device.publicKey),
      done: this.done,
      close: () => this.close(),
    }
  }

  async close(): Promise<void> {
    this.fail(new PairingError('ERR_PAIRING_ABORTED', 'pairing was cancelled'))
    await this.closed
  }

  private expire(): void {
    // A device that already proved the secret finishes under its own deadline.
    if (this.state !== 'open') return
    const minutes = this.ttlMs >= 60_000 ? `${Math.round(this.ttlMs / 60_000)} min` : `${Math.round(this.ttlMs / 1000)} s`
    this.fail(new PairingError('ERR_PAIRING_EXPIRED', `the pairing code expired (valid for ${minutes}) before a device joined; run "djcloud pair" again`))
  }

  private finish(result: PairingResult): void {
    if (this.state === 'ended') return
    this.shutdown()
    this.resolve(result)
  }

  private fail(err: Error): void {
    if (this.state === 'ended') return
    this.shutdown()
    this.reject(err)
  }

  private shutdown(): void {
    this.state = 'ended'
    clearTimeout(this.expiry)
    this.opts.signal?.removeEventListener('abort', this.onAbort)
    this.server.close()
    for (const s of this.sockets) if (!s.writableEnded) s.destroy()
  }

  private now(): HostState {
    return this.state
  }

  private warn(address: string, reason: string, error?: Error): void {
    this.opts.onWarning?.({ address, reason, ...(error ? { error } : {}) })
  }

  private accept(socket: Socket): void {
    const address = hostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
    if (this.state === 'ended') return void socket.destroy()
    if (this.pending.size >= this.maxPending) {
      const victim = pickEviction(this.pending.values())
      if (victim) {
        this.pending.delete(victim.frames.socket)
        victim.frames.fail(new PairingError('ERR_PAIRING_TIMEOUT', `evicted for a newer connection (${this.maxPending} connections were pending)`))
      }
    }
    this.sockets.add(socket)
    socket.setNoDelay(true)
    const frames = new FrameStream(socket, 2 * SMALL_FRAME_BYTES + 8)
    const entry: Pending = { frames, ip: socket.remoteAddress ?? '?', address, opened: this.opened++, heard: false }
    this.pending.set(socket, entry)
    const timer = setTimeout(
      () => frames.fail(new PairingError('ERR_PAIRING_TIMEOUT', `the handshake did not finish within ${this.handshakeTimeoutMs} ms`)),
      this.handshakeTimeoutMs,
    )
    timer.unref()
    const helloTimer = setTimeout(
      () => frames.fail(new PairingError('ERR_PAIRING_TIMEOUT', `no hello within ${this.helloTimeoutMs} ms`)),
      this.helloTimeoutMs,
    )
    helloTimer.unref()
    // The deadline also covers a refused peer that never closes its side.
    socket.on('close', () => {
      clearTimeout(timer)
      clearTimeout(helloTimer)
      this.sockets.delete(socket)
      this.pending.delete(socket)
    })
    let claimed = false
    const heard = () => {
      clearTimeout(helloTimer)
      entry.heard = true
    }
    const claim = () => {
      claimed = true
      this.pending.delete(socket)
    }
    this.session(frames, address, heard, claim).catch((err: Error) => {
      frames.fail(err)
      if (claimed) this.fail(err)
      else if (this.state !== 'ended') this.warn(address, err.message, err)
    })
  }

  private refuse(frames: FrameStream, code: string, message: string): void {
    frames.end(encodeMessage('error', { code, message }))
  }

  private async session(frames: FrameStream, address: string, heard: () => void, claim: () => void): Promise<void> {
    const identity = this.opts.identity
    if (this.state !== 'open') return this.refuse(frames, 'used', 'this pairing code is already being used by another device')
    const eph = newEphemeral()
    frames.write(encodeMessage('hello', { v: 1, e: eph.publicKey, device: identity.device.publicKey }))
    const hello = expect(decodeMessage(await frames.read(SMALL_FRAME_BYTES)), 'hello')
    heard()
    const joinerEphemeral = field(() => asBytes(hello.d.e, 'ephemeral key', 32))
    const keys = deriveSessionKeys(
      eph,
      joinerEphemeral,
      { joinerEphemeral, hostEphemeral: eph.publicKey, hostDevice: identity.device.publicKey },
      this.secret,
    )
    const proof = expect(decodeMessage(await frames.read(SMALL_FRAME_BYTES)), 'proof')
    // State read again after each await: it changes while this session waits.
    if (this.now() === 'ended') return this.refuse(frames, 'expired', 'this pairing code is no longer valid')
    if (this.now() === 'claimed') return this.refuse(frames, 'used', 'this pairing code was used by another device')
    const mac = field(() => asBytes(proof.d.mac, 'mac'))
    if (!sameBytes(mac, confirmation(keys.joinerConfirm, keys.transcript))) {
      this.attempts++
      const left = this.maxAttempts - this.attempts
      if (left <= 0) {
        this.refuse(frames, 'attempts', 'too many wrong attempts: this pairing code is burned')
        this.fail(
          new PairingError('ERR_PAIRING_ATTEMPTS', `${this.maxAttempts} wrong pairing attempts: the code is burned; run "djcloud pair" again for a new one`),
        )
        return
      }
      this.refuse(frames, 'wrong-secret', `wrong pairing secret (${left} attempt${left === 1 ? '' : 's'} left)`)
      this.warn(address, `wrong pairing secret (${left} attempt${left === 1 ? '' : 's'} left)`)
      return
    }
    // The secret is proven: this connection has the code now, whatever happens next.
    this.state = 'claimed'
    claim()
    const toJoiner = new SealedDirection(keys.hostToJoiner)
    const fromJoiner = new SealedDirection(keys.joinerToHost)
    frames.write(
      encodeMessage('proof', {
        mac: confirmation(keys.hostConfirm, keys.transcript),
        sig: signBytes(identity.device.seed, hostSigned(keys.transcript)),
      }),
    )
    const join = expect(decodeMessage(fromJoiner.open(await frames.read(SMALL_FRAME_BYTES))), 'join')
    const device = field(() => Uint8Array.from(asBytes(join.d.device, 'device key', 32)))
    const name = field(() => asString(join.d.name, 'name', MAX_NAME_BYTES))
    const sig = field(() => asBytes(join.d.sig, 'signature', 64))
    if (!verifyBytes(device, joinerSigned(keys.transcript), sig)) {
      throw new PairingError('ERR_PAIRING_PROTOCOL', 'the new device could not prove it holds its device key')
    }
    const peer: PairingPeer = { device, name, fingerprint: shortId(device), deviceId: formatId('device', device), address }
    this.opts.onFingerprint?.(peer)
    let issued: { certificate: DeviceCertificate; identity: Identity; rosterBytes: Uint8Array }
    try {
      issued = await this.issue(device, name)
    } catch (err) {
      if (!(err instanceof IdentityError || err instanceof PairingError)) throw err
      frames.end(toJoiner.seal(encodeMessage('error', { code: 'refused', message: err.message })))
      throw new PairingError('ERR_PAIRING_REFUSED', `refused the new device: ${err.message}`)
    }
    if (this.now() === 'ended') return // closed while the roster was written
    frames.write(
      toJoiner.seal(
        encodeMessage('welcome', {
          cert: encodeCertificate(issued.certificate),
          roster: issued.rosterBytes,
          circle: issued.identity.circleSecret,
        }),
      ),
    )
    let acked: Message
    try {
      acked = decodeMessage(fromJoiner.open(await frames.read(SMALL_FRAME_BYTES)))
    } catch (err) {
      throw new PairingError(
        'ERR_PAIRING_PROTOCOL',
        `the new device "${name}" did not confirm (${(err as Error).message}); it is on the roster: if it did not join, ` +
          `revoke it with "djcloud trust revoke ${peer.deviceId}"`,
      )
    }
    expect(acked, 'ack')
    frames.socket.end()
    this.finish({ ...peer, certificate: issued.certificate, identity: issued.identity })
  }

  /** Certifies the device as a member and stores the roster that lists it. */
  private issue(device: Uint8Array, name: string) {
    return certifyDevice(this.opts.identity, device, name, 'member')
  }
}

/** Runs a field accessor; a malformed field is a protocol error. */
function field<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new PairingError('ERR_PAIRING_PROTOCOL', `malformed message: ${(err as Error).message}`)
  }
}

/** The fields each message may carry (t is the type): anything else is a protocol error. */
const MESSAGE_FIELDS: Readonly<Record<string, FieldList>> = {
  hello: fieldList('t', 'v', 'e', 'device'), // device: the host's only
  proof: fieldList('t', 'mac', 'sig'), // sig: the host's only
  join: fieldList('t', 'device', 'name', 'sig'),
  welcome: fieldList('t', 'cert', 'roster', 'circle'),
  ack: fieldList('t'),
  error: fieldList('t', 'code', 'message'),
}

const REMOTE_ERRORS: Record<string, PairingErrorCode> = {
  'wrong-secret': 'ERR_PAIRING_WRONG_SECRET',
  attempts: 'ERR_PAIRING_ATTEMPTS',
  used: 'ERR_PAIRING_USED',
  expired: 'ERR_PAIRING_EXPIRED',
}

/** Checks the message type; an `error` message from the peer becomes a PairingError. */
function expect(m: Message, type: string): Message {
  const fields = MESSAGE_FIELDS[m.t]
  if (fields) field(() => onlyFields(m.d, fields, `a "${m.t}" message`))
  if (m.t === 'error') {
    const code = field(() => asString(m.d.code, 'error code', 32))
    const text = field(() => asString(m.d.message, 'error message', 4096))
      .replace(/[\x00-\x1f\x7f]/g, ' ')
      .slice(0, MAX_ERROR_TEXT)
    throw new PairingError(REMOTE_ERRORS[code] ?? 'ERR_PAIRING_REFUSED', `the pairing device refused: ${text}`)
  }
  if (m.t !== type) throw new PairingError('ERR_PAIRING_PROTOCOL', `expected a "${type}" message, got "${m.t.slice(0, 32)}"`)
  return m
}

function connect(code: PairingCode, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  const where = hostPort(code.host, code.port)
  const unreachable = (why: string) => {
    const hint =
      Date.now() > code.expires
        ? 'the code has expired; run "djcloud pair" again on the admin device'
        : 'the code may have expired or been used already, or that device is not reachable from here'
    return new PairingError('ERR_PAIRING_UNREACHABLE', `could not reach the pairing device at ${where} (${why}): ${hint}`)
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: code.host, port: code.port })
    const done = (err?: Error) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.removeListener('error', onError)
      if (!err) return resolve(socket)
      socket.destroy()
      reject(err)
    }
    const onError = (err: NodeJS.ErrnoException) => done(unreachable(err.code ?? err.message))
    const onAbort = () => done(new PairingError('ERR_PAIRING_ABORTED', 'joining was cancelled'))
    const timer = setTimeout(() => done(unreachable('timed out')), timeoutMs)
    socket.once('connect', () => done())
    socket.once('error', onError)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Joins the circle of the admin device that showed `codeText`. Returns what
 * the new device must store (saveJoinedIdentity); it writes nothing itself.
 */
export async function joinWithCode(codeText: string, opts: JoinOptions): Promise<JoinResult> {
  const code = decodePairingCode(codeText)
  const name = checkDeviceName(opts.name)
  const device = opts.device ?? generateKeyPair()
  if (opts.signal?.aborted) throw new PairingError('ERR_PAIRING_ABORTED', 'joining was cancelled')
  const timeoutMs = opts.timeoutMs ?? PAIRING_DEFAULTS.joinTimeoutMs
  const started = Date.now()
  const socket = await connect(code, timeoutMs, opts.signal)
  socket.setNoDelay(true)
  const frames = new FrameStream(socket, WELCOME_FRAME_BYTES + 8)
  const timer = setTimeout(
    () => frames.fail(new PairingError('ERR_PAIRING_TIMEOUT', `the pairing device did not finish within ${timeoutMs} ms`)),
    Math.max(0, timeoutMs - (Date.now() - started)),
  )
  timer.unref()
  const onAbort = () => frames.fail(new PairingError('ERR_PAIRING_ABORTED', 'joining was cancelled'))
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const eph = newEphemeral()
    frames.write(encodeMessage('hello', { v: 1, e: eph.publicKey }))
    const hello = expect(decodeMessage(await readOrExplain(frames, SMALL_FRAME_BYTES)), 'hello')
    const hostDevice = field(() => asBytes(hello.d.device, 'device key', 32))
    if (!same(hostDevice, code.deviceKey)) {
      throw new PairingError(
        'ERR_PAIRING_HOST_MISMATCH',
        `the device at ${hostPort(code.host, code.port)} (${shortId(hostDevice)}) is not the one that showed this code (${shortId(code.deviceKey)})`,
      )
    }
    const hostEphemeral = field(() => asBytes(hello.d.e, 'ephemeral key', 32))
    const keys = deriveSessionKeys(
      eph,
      hostEphemeral,
      { joinerEphemeral: eph.publicKey, hostEphemeral, hostDevice: code.deviceKey },
      code.secret,
    )
    frames.write(encodeMessage('proof', { mac: confirmation(keys.joinerConfirm, keys.transcript) }))
    const reply = expect(decodeMessage(await readOrExplain(frames, SMALL_FRAME_BYTES)), 'proof')
    const mac = field(() => asBytes(reply.d.mac, 'mac'))
    const sig = field(() => asBytes(reply.d.sig, 'signature'))
    if (!sameBytes(mac, confirmation(keys.hostConfirm, keys.transcript))) {
      throw new PairingError('ERR_PAIRING_PROTOCOL', 'the pairing device does not know the secret of this code')
    }
    if (!verifyBytes(code.deviceKey, hostSigned(keys.transcript), sig)) {
      throw new PairingError(
        'ERR_PAIRING_HOST_MISMATCH',
        'the pairing device could not prove it holds the device key in the code (someone in the middle?); nothing was sent',
      )
    }
    const hostFingerprint = shortId(code.deviceKey)
    const hostDeviceId = formatId('device', code.deviceKey)
    opts.onFingerprint?.({ fingerprint: hostFingerprint, deviceId: hostDeviceId })
    const toHost = new SealedDirection(keys.joinerToHost)
    const fromHost = new SealedDirection(keys.hostToJoiner)
    frames.write(
      toHost.seal(encodeMessage('join', { device: device.publicKey, name, sig: signBytes(device.seed, joinerSigned(keys.transcript)) })),
    )
    const welcome = expect(
      decodeMessage(fromHost.open(await readOrExplain(frames, WELCOME_FRAME_BYTES)), WELCOME_FRAME_BYTES),
      'welcome',
    )
    const checked = checkWelcome(welcome, device, code.deviceKey)
    frames.write(toHost.seal(encodeMessage('ack', {})))
    socket.end()
    return { device, ...checked, hostFingerprint, hostDeviceId }
  } catch (err) {
    frames.fail(err as Error)
    if (err instanceof IdentityError) throw new PairingError('ERR_PAIRING_PROTOCOL', `the pairing device sent ${err.message}`)
    throw err
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

/** A close before any answer is most likely a code that just stopped being valid. */
async function readOrExplain(frames: FrameStream, cap: number): Promise<Buffer> {
  try {
    return await frames.read(cap)
  } catch (err) {
    if (err instanceof PairingError && err.code === 'ERR_PAIRING_PROTOCOL' && /connection closed/.test(err.message)) {
      throw new PairingError('ERR_PAIRING_PROTOCOL', 'the pairing device closed the connection (the code may have just been used, burned or expired)')
    }
    throw err
  }
}

/** The welcome must certify exactly this device, under a roster that lists it and the admin that paired it. */
function checkWelcome(m: Message, device: KeyPair, hostDevice: Uint8Array) {
  const certificate = decodeCertificate(field(() => asBytes(m.d.cert, 'certificate')))
  const rosterBytes = Uint8Array.from(field(() => asBytes(m.d.roster, 'roster')))
  const circleSecret = Uint8Array.from(field(() => asBytes(m.d.circle, 'circle secret', 32)))
  const bad = (why: string): never => {
    throw new PairingError('ERR_PAIRING_PROTOCOL', `the pairing device sent ${why}`)
  }
  if (!same(certificate.device, device.publicKey)) bad('a certificate for another device key')
  if (certificate.role !== 'member') bad(`a certificate with role "${certificate.role}" but no owner key`)
  const roster = verifyRoster(rosterBytes, certificate.owner)
  const listed = roster.devices.find((c) => same(c.device, device.publicKey))
  if (!listed || !same(encodeCertificate(listed), encodeCertificate(certificate))) bad('a roster that does not list this device')
  const admin = roster.devices.find((c) => same(c.device, hostDevice))
  if (!admin || admin.role !== 'admin') bad('a roster that does not list it as an admin device')
  return { certificate, roster, rosterBytes, circleSecret, hostName: admin!.name }
}
