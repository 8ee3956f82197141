// RFC 4648 base32 without padding. Decoding is forgiving of case and of the
// digits people type for look-alike letters (0->O, 1->I, 8->B), because ids
// are read aloud and retyped; a checksum elsewhere catches real mistakes.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const LOOKUP = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]))
const LOOKALIKES: Record<string, string> = { '0': 'O', '1': 'I', '8': 'B' }

export function base32Encode(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

/** Returns null when a character is outside the alphabet. */
export function base32Decode(text: string): Uint8Array | null {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const raw of text.toUpperCase()) {
    const ch = LOOKALIKES[raw] ?? raw
    const v = LOOKUP.get(ch)
    if (v === undefined) return null
    value = ((value << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Uint8Array.from(out)
}
