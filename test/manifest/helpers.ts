// Shared fixtures for manifest tests: a circle, signing of raw envelopes
// (to build what encodeManifest would refuse), and non-canonical encoding.
import { decode, encode, type BDict, type BInput } from '../../src/codec/index.ts'
import { signBytes, signRoster } from '../../src/identity/index.ts'
import { makeCircle } from '../helpers/circle.ts'

export const NOW = Date.UTC(2025, 5, 1)

export function circle() {
  const c = makeCircle(['laptop', 'phone', 'desk'])
  const signed = signRoster(c.roster, c.owner.seed)
  return { ...c, ownerSigner: { ownerSeed: c.owner.seed, ownerPublicKey: c.owner.publicKey }, rosterBody: decode(signed) }
}

/** Signs an arbitrary envelope dict with a seed, bypassing encodeManifest's checks. */
export function signRaw(fields: { [k: string]: BInput | undefined }, seed: Uint8Array): Uint8Array {
  return encode({ ...fields, sig: signBytes(seed, encode(fields)) })
}

/** The envelope fields of a valid manifest, without sig. */
export function unsignedOf(bytes: Uint8Array): BDict {
  const d = decode(bytes, { maxBytes: 1 << 24, maxStringBytes: 1 << 24, maxItems: 1 << 22 }) as BDict
  delete d.sig
  return d
}

/** A dict written with its keys in reverse order: valid bencode syntax, not canonical. */
export function encodeUnsorted(d: BDict): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from('d')]
  for (const k of Object.keys(d).sort().reverse()) {
    parts.push(encode(k), encode(d[k] as BInput))
  }
  parts.push(Buffer.from('e'))
  return Buffer.concat(parts)
}
