// The bytes an announce's admission proof signs (docs/tracker.md): kept
// apart from announce.ts (HTTP and TLS, Node only) because a browser device
// signs its WebSocket announces too (src/browser/signal.ts).
import { encode } from '../codec/index.ts'

export const ANNOUNCE_PROOF_TYPE = 'djcloud-announce'
export const ANNOUNCE_PROOF_VERSION = 1
export const ANNOUNCE_NONCE_BYTES = 16

/** The fields an announce signature covers. */
export interface AnnounceClaim {
  infoHash: Uint8Array
  peerId: Uint8Array
  /** The announced peer port; 0 for WebSocket announces (WebRTC peers have none). */
  port: number
  /** '' when absent. */
  event: string
  /** ms since the epoch */
  ts: number
  nonce: Uint8Array
}

/** The bytes an announce proof signs: canonical bencode of the claim. */
export function announceSigningBytes(c: AnnounceClaim): Uint8Array {
  return encode({
    type: ANNOUNCE_PROOF_TYPE,
    v: ANNOUNCE_PROOF_VERSION,
    info_hash: c.infoHash,
    peer_id: c.peerId,
    port: c.port,
    event: c.event,
    ts: c.ts,
    nonce: c.nonce,
  })
}
