// Human-checkable ids for public keys, in the spirit of syncthing's device
// ids: base32 of the key plus a 4-character checksum, in dash-separated groups
// of 7. The checksum covers the kind ("device" or "owner"), so a device id
// pasted where an owner id is expected is caught rather than misread.
import { createHash } from 'node:crypto'
import { base32Decode, base32Encode } from '../codec/index.ts'
import { IdentityError } from './errors.ts'

export type IdKind = 'device' | 'owner'

const KEY_CHARS = 52 // ceil(256 / 5)
const CHECK_CHARS = 4
const GROUP = 7

function checksum(kind: IdKind, key: Uint8Array): string {
  const digest = createHash('sha256').update(`djcloud-${kind}-id:`).update(key).digest()
  return base32Encode(digest.subarray(0, 3)).slice(0, CHECK_CHARS)
}

export function formatId(kind: IdKind, publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new RangeError('ids are made from 32-byte keys')
  const text = base32Encode(publicKey) + checksum(kind, publicKey)
  return text.match(new RegExp(`.{1,${GROUP}}`, 'g'))!.join('-')
}

/** Parses an id typed by a person: dashes, spaces and case are ignored. */
export function parseId(kind: IdKind, text: string): Uint8Array {
  const compact = text.replace(/[\s-]/g, '')
  if (compact.length !== KEY_CHARS + CHECK_CHARS) {
    throw new IdentityError('ERR_BAD_ID', `not a ${kind} id: expected ${KEY_CHARS + CHECK_CHARS} characters, got ${compact.length}`)
  }
  const key = base32Decode(compact.slice(0, KEY_CHARS))
  if (!key || key.length !== 32) throw new IdentityError('ERR_BAD_ID', `not a ${kind} id: it has characters outside A-Z and 2-7`)
  const given = compact.slice(KEY_CHARS).toUpperCase().replace(/0/g, 'O').replace(/1/g, 'I').replace(/8/g, 'B')
  if (given !== checksum(kind, key)) {
    const other: IdKind = kind === 'device' ? 'owner' : 'device'
    const hint = given === checksum(other, key) ? ` (this is ${other === 'owner' ? 'an owner' : 'a device'} id)` : ' (a character is mistyped)'
    throw new IdentityError('ERR_BAD_ID', `not a valid ${kind} id: the checksum does not match${hint}`)
  }
  return key
}

/** A short fingerprint for logs and for people comparing screens. */
export function shortId(publicKey: Uint8Array): string {
  return base32Encode(publicKey).slice(0, 7)
}
