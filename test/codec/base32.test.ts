// RFC 4648 base32 without padding, forgiving when decoding what people retype.
import test from 'ava'
import { base32Decode, base32Encode } from '../../src/codec/index.ts'

test('RFC 4648 test vectors (padding left off)', (t) => {
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ]
  for (const [plain, encoded] of vectors) {
    t.is(base32Encode(Buffer.from(plain)), encoded)
    t.deepEqual(Buffer.from(base32Decode(encoded)!), Buffer.from(plain))
  }
})

test('round-trips every length from 0 to 64 bytes, all byte values', (t) => {
  for (let n = 0; n <= 64; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31 + 255) & 0xff)
    const text = base32Encode(bytes)
    t.regex(text, /^[A-Z2-7]*$/)
    t.is(text.length, Math.ceil((n * 8) / 5))
    t.deepEqual(Buffer.from(base32Decode(text)!), Buffer.from(bytes), `length ${n}`)
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i)
  t.deepEqual(Buffer.from(base32Decode(base32Encode(all))!), Buffer.from(all))
})

test('decoding forgives case and look-alike digits, and refuses other characters', (t) => {
  const bytes = Buffer.from('djcloud device id')
  const text = base32Encode(bytes)
  t.deepEqual(Buffer.from(base32Decode(text.toLowerCase())!), bytes)
  t.deepEqual(Buffer.from(base32Decode('MZXW6')!), Buffer.from(base32Decode('mzxw6')!))
  t.deepEqual(Buffer.from(base32Decode('0I')!), Buffer.from(base32Decode('OI')!))
  t.deepEqual(Buffer.from(base32Decode('1B')!), Buffer.from(base32Decode('IB')!))
  t.deepEqual(Buffer.from(base32Decode('8A')!), Buffer.from(base32Decode('BA')!))
  for (const bad of ['MZXW6=', 'MZ-XW', 'MZ XW', '9', 'É']) t.is(base32Decode(bad), null, bad)
})
