// dj_auth's channel binding for a stream of a WebRTC link. DTLS encrypts the
// data channel, but who is at the other end is proved inside it by dj_auth
// (DTLS certificates are throwaway keys, and the SDP carrying their
// fingerprints passed through the tracker). Each proof signs this value:
// SHA-256 over a label, the stream id and the DTLS fingerprints of the offer
// and of the answer, read from the descriptions each side applied. Both ends
// of one DTLS session compute the same value; a signaling man in the middle
// who put his own fingerprint in either description runs two DTLS sessions,
// one with each end, whose values differ, so the proofs he relays fail
// (docs/rtc.md, "Authentication").
import { sha256 } from '@noble/hashes/sha2.js'
import { RtcError } from './errors.ts'

const LABEL = new TextEncoder().encode('djcloud/webrtc/v1')

/**
 * The DTLS fingerprint of a description (`a=fingerprint:<hash> <hex>`),
 * normalised to `<hash lower-case> <HEX upper-case>`. Every fingerprint line
 * must be the same (one bundled transport); none, or two different, fail.
 */
export function sdpFingerprint(sdp: string): string {
  const found = new Set<string>()
  for (const m of sdp.matchAll(/^a=fingerprint:([A-Za-z0-9-]+)[ \t]+([0-9A-Fa-f:]+)[ \t]*\r?$/gm)) {
    found.add(`${m[1]!.toLowerCase()} ${m[2]!.toUpperCase()}`)
  }
  if (found.size !== 1) throw new RtcError('ERR_NO_FINGERPRINT', found.size === 0 ? 'the session description has no DTLS fingerprint' : 'the session description has more than one DTLS fingerprint')
  return [...found][0]!
}

/** SHA-256("djcloud/webrtc/v1" || u32 stream id || u16 len || offer fingerprint || u16 len || answer fingerprint). */
export function rtcBinding(streamId: number, offerFingerprint: string, answerFingerprint: string): Uint8Array {
  const enc = new TextEncoder()
  const a = enc.encode(offerFingerprint)
  const b = enc.encode(answerFingerprint)
  const buf = new Uint8Array(LABEL.length + 4 + 2 + a.length + 2 + b.length)
  const view = new DataView(buf.buffer)
  let at = 0
  buf.set(LABEL, at)
  at += LABEL.length
  view.setUint32(at, streamId)
  at += 4
  view.setUint16(at, a.length)
  buf.set(a, at + 2)
  at += 2 + a.length
  view.setUint16(at, b.length)
  buf.set(b, at + 2)
  return sha256(buf)
}
