// Turns a byte stream between two devices into an authenticated wire:
// BitTorrent handshake, BEP 10 extended handshake, then one dj_auth message
// each way, all under a deadline. The dialler proves itself first, except to
// an address found on a DHT channel (`proveSecond`): it sends `ask`, the
// answering side proves itself, the dialler checks it against whom it
// expected and only then sends its proof, and the answering side confirms
// with `ok`. Nothing but those messages is acted on before the peer proves
// itself; a peer that does not is dropped. Every proof covers the stream's
// channel binding, which the transport gives (session.ts: a TLS link's
// exporter value; a WebRTC data channel's DTLS fingerprints).
// Portable: no Node-only import, so the same code runs in a page
// (docs/browser.md). Timers are unref'd where that exists (Node).
import type { Duplex } from 'node:stream'
import { Wire, WireError } from './wire.ts'
import { newPeerId } from './peer-id.ts'
import { AUTH_EXTENSION, AuthError, authControlOf, createAuthMessage, encodeAuthControl, verifyAuthMessage, type Credentials, type VerifiedPeer } from './auth.ts'
import type { FriendRevoked, Roster } from '../../identity/browser.ts'

export const AUTH_DEADLINE = 5_000 // ms

export interface PeerSession {
  wire: Wire
  infoHash: Buffer
  peer: VerifiedPeer
  remote: { host: string; port: number }
  /** The path's round trip in ms, when this side dialled (its TCP connect): sizes a fetch's request queue. */
  rttMs?: number
}

export interface Admission {
  /** Narrows who may use this infohash; default: own devices only. */
  allow?: (p: VerifiedPeer) => boolean
  /**
   * Whether this side proves itself first when the dialler asks (`ask`):
   * only on channels whose name is secret to those it admits and whose
   * addresses are found on the DHT (share and backup channels). Elsewhere
   * (a track's infohash, which a leaked .torrent shows) an `ask` is refused.
   */
  answerFirst?: boolean
}

export interface SessionOptions {
  /** The device's certificate and its key: a seed (Node) or an async signer (a non-extractable WebCrypto key). */
  credentials: Credentials
  roster: () => Roster
  /** Friends' devices their owners revoked (friends' rosters this device follows). */
  friendRevoked?: FriendRevoked
  /** Extensions besides dj_auth that this wire speaks. */
  extensions?: string[]
  /** Outgoing: the infohash dialled. */
  infoHash?: Buffer
  /** Outgoing: who may answer (default: own devices only; a friend's device when dialling a friend). */
  allow?: (p: VerifiedPeer) => boolean
  /** Outgoing: accept a device of an owner the roster does not know (kind 'holder'); `allow` still decides. */
  trustAnyOwner?: boolean
  /**
   * Outgoing: the answering side proves itself first, and this device sends
   * its certificate and signature only once that proof passed `allow`. For
   * addresses found on a DHT channel, which anyone could have announced.
   */
  proveSecond?: boolean
  /** Incoming: a device refused although its proof passes (this device's ban list); never asked of a peer this side dialled. */
  banned?: (p: VerifiedPeer) => boolean
  /** Incoming: whether the infohash the peer asks for is served here, and to whom. */
  accept?: (infoHash: Buffer) => Admission | null
  deadlineMs?: number
  /** authenticate() only (authenticateWire takes its transport's): the address dialled, which the socket does not know before it connects. */
  remote?: { host: string; port: number }
  /**
   * authenticate() only (authenticateWire takes its transport's): the
   * link's channel binding when the socket is not a TLS link from
   * src/link/ (whose exporter value is the default): a transport with its own
   * binding, or the benchmark's plaintext baseline. A plain socket without
   * one fails: nothing authenticates outside an encrypted link by accident.
   */
  binding?: () => Uint8Array
}

export class SessionError extends Error {
  override name = 'SessionError'
  constructor(
    readonly reason: string,
    readonly remote: { host: string; port: number },
    /** The device key that failed, when it proved it on this link (AuthError.device); undefined when nothing was proved. */
    readonly device?: Uint8Array,
  ) {
    super(`peer ${remote.host}:${remote.port} dropped: ${reason}`)
  }
}

const ownOnly = (p: VerifiedPeer) => p.kind === 'own'

/** What the transport under the wire tells the handshake. */
export interface WireTransport {
  /** The stream's channel binding; read once, when the first proof is made or checked. May throw (the stream is not bound). */
  binding: () => Uint8Array
  remote: { host: string; port: number }
  /** The path's round trip in ms, read when the peer is authenticated, if the transport measured it. */
  rttMs?: () => number | undefined
}

/**
 * Resolves once the peer is authenticated. The wire is paused at that moment
 * (messages that arrived with the peer's proof wait in its buffer) and its
 * owner calls `wire.resume()` once subscribed, however long that takes.
 */
export function authenticateWire(socket: Duplex, opts: SessionOptions, transport: WireTransport): Promise<PeerSession> {
  const { remote } = transport
  const wire = new Wire(socket, [AUTH_EXTENSION, ...(opts.extensions ?? [])])
  const myPeerId = newPeerId()
  let infoHash = opts.infoHash ?? null
  let admission: Admission | null = opts.infoHash ? { allow: opts.allow } : null
  let theirPeerId: Buffer | null = null
  let sentAuth = false
  const outgoing = !!opts.infoHash
  /** Outgoing with proveSecond: we asked; incoming: the dialler asked us to prove first. */
  let asked = false
  /** Outgoing with proveSecond: the answering side's verified proof, until it accepts ours. */
  let proved: VerifiedPeer | null = null
  let binding: Uint8Array | null = null
  /** Read once, when the first proof is made or checked: a TLS handshake is done by then on both sides. */
  const bound = (): Uint8Array => (binding ??= transport.binding())

  return new Promise<PeerSession>((resolve, reject) => {
    let settled = false
    const fail = (reason: string, device?: Uint8Array) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      wire.destroy()
      reject(new SessionError(reason, remote, device))
    }
    const timer = setTimeout(() => fail('did not authenticate in time'), opts.deadlineMs ?? AUTH_DEADLINE)
    timer.unref?.()

    // Garbage (a protocol error) is a failure of the peer; a connection that merely closed is not.
    wire.on('close', (err) => fail(err instanceof WireError && err.code !== 'ERR_CLOSED' ? `protocol error: ${err.message}` : err ? `connection closed: ${err.message}` : 'connection closed'))
    wire.on('handshake', (ih, peerId, extended) => {
      if (opts.infoHash) {
        if (!ih.equals(opts.infoHash)) return fail('answered for another infohash')
      } else {
        admission = opts.accept?.(ih) ?? null
        if (!admission) return fail('asked for an infohash not served here')
        infoHash = ih
        wire.handshake(ih, myPeerId)
      }
      if (!extended) return fail('no extension protocol (BEP 10)')
      theirPeerId = peerId
      wire.extendedHandshake() // no client name: nothing for strangers to fingerprint
    })
    /**
     * Sends this side's proof, then runs `then`: at once with a seed, once
     * signed with an async signer (a WebCrypto key). Whatever follows the
     * proof (the session's first messages) goes after it on the wire.
     */
    const sendAuth = (then?: () => void) => {
      sentAuth = true
      let proof: Uint8Array | Promise<Uint8Array>
      try {
        proof = createAuthMessage(opts.credentials, infoHash!, myPeerId, theirPeerId!, bound())
      } catch (err) {
        return fail((err as Error).message)
      }
      const send = (bytes: Uint8Array) => {
        if (settled) return
        wire.extended(AUTH_EXTENSION, bytes)
        then?.()
      }
      if (proof instanceof Uint8Array) send(proof)
      else proof.then(send, (err: Error) => fail(`could not sign the proof: ${err.message}`))
    }
    wire.on('extended-handshake', () => {
      if (!theirPeerId || !infoHash || sentAuth) return
      if (!wire.peerExtensions.has(AUTH_EXTENSION)) return fail('peer does not speak dj_auth')
      // The side that dialled proves itself first; the side that answers says
      // who it is only to a peer that has proved itself, so a stranger holding
      // an infohash learns nothing about the circle.
      // A dialler that found this address on the DHT (anyone may announce
      // there) asks the answering side to go first instead, and proves itself
      // only to a device it expected.
      if (outgoing && opts.proveSecond) {
        asked = true
        wire.extended(AUTH_EXTENSION, encodeAuthControl('ask'))
      } else if (outgoing) sendAuth()
    })
    const done = (peer: VerifiedPeer) => {
      if (settled) return // a proof that could not be sent failed the session first
      settled = true
      clearTimeout(timer)
      wire.removeAllListeners()
      wire.pause()
      // The wire stays paused: its new owner subscribes, then calls resume().
      const rttMs = transport.rttMs?.()
      resolve({ wire, infoHash: infoHash!, peer, remote, ...(rttMs === undefined ? {} : { rttMs }) })
    }
    wire.on('extended', (name, payload) => {
      if (name !== AUTH_EXTENSION || settled) return
      if (!theirPeerId || !infoHash) return fail('authenticated out of order')
      const control = authControlOf(payload)
      if (control === 'ask') {
        // Only a dialler asks, once, before either side proved anything.
        if (outgoing || asked || sentAuth) return fail('authenticated out of order')
        if (!admission?.answerFirst) return fail('asked to prove first where this side does not')
        asked = true
        return void sendAuth()
      }
      if (control === 'ok') {
        if (!outgoing || !proved || !sentAuth) return fail('authenticated out of order')
        return done(proved)
      }
      if (outgoing && !sentAuth && !asked) return fail('authenticated out of order')
      if (outgoing && asked && proved) return fail('authenticated out of order')
      try {
        const peer = verifyAuthMessage(payload, {
          roster: opts.roster(),
          friendRevoked: opts.friendRevoked,
          infoHash,
          theirPeerId,
          myPeerId,
          binding: bound(),
          allow: admission?.allow ?? ownOnly,
          trustAnyOwner: !!opts.infoHash && !!opts.trustAnyOwner,
          banned: outgoing ? undefined : opts.banned,
        })
        if (outgoing && asked) {
          // The answering side proved itself and is whom we expected: now our proof; it says ok once it checked it.
          proved = peer
          return void sendAuth()
        }
        if (!outgoing && asked) wire.extended(AUTH_EXTENSION, encodeAuthControl('ok'))
        if (!sentAuth) sendAuth(() => done(peer))
        else done(peer)
      } catch (err) {
        if (err instanceof AuthError) fail(err.reason, err.device)
        else fail((err as Error).message)
      }
    })
    if (opts.infoHash) wire.handshake(opts.infoHash, myPeerId)
  })
}
