// Serato's base64: no '=' padding, a line feed every 72 characters, and at
// times one character more than a whole group (serato-tags
// docs/serato_markers2.md): that stray character carries no byte and is
// dropped. Anything outside the alphabet is refused, not skipped.
import { SeratoError } from './errors.ts'

const ALPHABET = /^[A-Za-z0-9+/]*$/

export function decodeSeratoBase64(text: string, what: string): Buffer {
  let s = text.replace(/[\r\n]/g, '').replace(/=+$/, '')
  if (!ALPHABET.test(s)) throw new SeratoError('ERR_BAD_TAG', `${what}: base64 text holds a character outside the alphabet`)
  if (s.length % 4 === 1) s = s.slice(0, -1)
  return Buffer.from(s, 'base64')
}

/** Base64 as Serato writes it: no padding, a line feed after every 72 characters when `lines`. */
export function encodeSeratoBase64(bytes: Uint8Array, lines: boolean): string {
  const s = Buffer.from(bytes).toString('base64').replace(/=+$/, '')
  return lines ? (s.match(/.{1,72}/g) ?? []).join('\n') : s
}
