// Canonical bencode: one byte string per value, so that "decode then
// re-encode" is the identity and signatures can be checked over received
// bytes. The decoder is strict and bounded because its input is hostile.
import test from 'ava'
import { decode, encode, BencodeError, DEFAULT_LIMITS, type BInput, type BValue } from '../../src/codec/index.ts'

const te = new TextEncoder()
const b = (s: string) => te.encode(s)
const str = (u: Uint8Array) => Buffer.from(u).toString('latin1')

function refuses(t: import('ava').ExecutionContext, input: string | Uint8Array, pattern: RegExp, limits = {}) {
  const bytes = typeof input === 'string' ? b(input) : input
  const err = t.throws(() => decode(bytes, limits), { instanceOf: BencodeError }, typeof input === 'string' ? input.slice(0, 40) : 'bytes')
  t.is(err?.code, 'ERR_BENCODE')
  t.regex(err?.message ?? '', pattern)
}

test('encode writes integers, strings, bytes, lists and dicts', (t) => {
  t.is(str(encode(0)), 'i0e')
  t.is(str(encode(-42)), 'i-42e')
  t.is(str(encode(2n ** 63n - 1n)), `i${2n ** 63n - 1n}e`)
  t.throws(() => encode(2n ** 63n), { message: /beyond 64 bits/ }, 'integers are signed 64-bit')
  t.is(str(encode('spam')), '4:spam')
  t.is(str(encode('')), '0:')
  t.is(str(encode('é')), '2:\xc3\xa9', 'strings are UTF-8, the length counts bytes')
  t.is(str(encode(new Uint8Array([0, 255]))), '2:\x00\xff')
  t.is(str(encode([1, 'a', [], {}])), 'li1e1:aledee')
  t.is(str(encode({ a: 1, b: undefined })), 'd1:ai1ee', 'undefined entries are dropped')
})

test('encode sorts dictionary keys by their raw bytes', (t) => {
  t.is(str(encode({ zeta: 1, alpha: 2, Beta: 3, a: 4, aa: 5 })), 'd4:Betai3e1:ai4e2:aai5e5:alphai2e4:zetai1ee')
  // UTF-16 order (JavaScript's sort) and UTF-8 byte order disagree here:
  // U+FF21 is EF BC A1, U+1F600 is F0 9F 98 80; bytes put U+FF21 first.
  const bytes = Buffer.from(encode({ '\u{1F600}': 1, '\uFF21': 2 }))
  t.true(bytes.indexOf(Buffer.from('\uFF21', 'utf8')) < bytes.indexOf(Buffer.from('\u{1F600}', 'utf8')))
  t.notThrows(() => decode(bytes), 'the decoder agrees it is canonical')
  // Nested dicts are sorted too, and insertion order never matters.
  t.deepEqual(encode({ x: { b: 1, a: 2 }, c: [{ z: 0, y: 0 }] }), encode({ c: [{ y: 0, z: 0 }], x: { a: 2, b: 1 } }))
})

test('encode refuses values with no canonical form', (t) => {
  for (const v of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    t.throws(() => encode(v), { instanceOf: BencodeError }, String(v))
  }
  t.throws(() => encode(true as unknown as BInput), { instanceOf: BencodeError })
  t.throws(() => encode(null as unknown as BInput), { instanceOf: BencodeError })
  let deep: BInput = 1
  for (let i = 0; i < 100; i++) deep = [deep]
  t.throws(() => encode(deep), { instanceOf: BencodeError, message: /deep/ })
})

test('decode reads every kind of value', (t) => {
  t.is(decode(b('i0e')), 0)
  t.is(decode(b('i-7e')), -7)
  t.is(decode(b(`i${Number.MAX_SAFE_INTEGER}e`)), Number.MAX_SAFE_INTEGER)
  t.is(decode(b(`i${2n ** 62n}e`)), 2n ** 62n, 'beyond 2^53 as a bigint')
  t.throws(() => decode(b(`i${2n ** 63n}e`)), { message: /beyond 64 bits/ })
  t.deepEqual(Buffer.from(decode(b('3:abc')) as Uint8Array), Buffer.from('abc'))
  t.deepEqual(Buffer.from(decode(b('0:')) as Uint8Array), Buffer.alloc(0))
  const v = decode(b('d1:ali1ei2ee1:bd1:c0:ee')) as Record<string, BValue>
  t.deepEqual(v.a, [1, 2])
  t.deepEqual(Object.keys(v), ['a', 'b'])
})

test('decode(encode(x)) round-trips and encode(decode(bytes)) is the identity', (t) => {
  const values: BInput[] = [
    0,
    -1,
    123456789,
    Number.MIN_SAFE_INTEGER,
    2n ** 63n - 1n,
    -(2n ** 63n),
    new Uint8Array([1, 2, 3, 0, 255]),
    [],
    {},
    [[[]], {}, new Uint8Array(0)],
    { name: new Uint8Array(64).fill(0x61), 'piece length': 65536, pieces: new Uint8Array(40).fill(7), private: 1, nested: { list: [1, 2, { k: 3 }] } },
  ]
  for (const v of values) {
    const bytes = encode(v)
    const back = decode(bytes)
    t.deepEqual(Buffer.from(encode(back as BInput)), Buffer.from(bytes))
    t.deepEqual(normalise(back), normalise(v as BValue))
  }
  // A pseudo-random structure.
  let seed = 99
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24
  const gen = (depth: number): BInput => {
    const r = rnd()
    if (depth > 4 || r < 0.3) return Math.floor(rnd() * 2e9) - 1e9
    if (r < 0.55) return Uint8Array.from({ length: Math.floor(rnd() * 20) }, () => Math.floor(rnd() * 256))
    if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 5) }, () => gen(depth + 1))
    const o: Record<string, BInput> = {}
    for (let i = 0; i < rnd() * 6; i++) o[`k${Math.floor(rnd() * 1000)}`] = gen(depth + 1)
    return o
  }
  for (let i = 0; i < 200; i++) {
    const bytes = encode(gen(0))
    t.deepEqual(Buffer.from(encode(decode(bytes) as BInput)), Buffer.from(bytes))
  }
})

/** Byte strings as plain arrays, so Buffer/Uint8Array views compare equal. */
function normalise(v: BValue): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] }
  if (Array.isArray(v)) return v.map(normalise)
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]))
  return v
}

test('decode refuses unsorted and duplicate keys', (t) => {
  refuses(t, 'd1:bi1e1:ai2ee', /sorted|duplicated/)
  refuses(t, 'd1:ai1e1:ai2ee', /sorted|duplicated/)
  refuses(t, 'd2:aai1e1:ai2ee', /sorted|duplicated/, {})
  refuses(t, 'li1ed1:zi0e1:yi0eee', /sorted|duplicated/) // nested
  refuses(t, new Uint8Array([...b('d2:'), 0xff, 0xfe, ...b('i1ee')]), /UTF-8/)
})

test('decode refuses non-canonical integers and lengths', (t) => {
  refuses(t, 'i03e', /non-canonical/)
  refuses(t, 'i-0e', /non-canonical/)
  refuses(t, 'i00e', /non-canonical/)
  refuses(t, 'ie', /non-canonical/)
  refuses(t, 'i+1e', /non-canonical/)
  refuses(t, 'i1.0e', /non-canonical/)
  refuses(t, 'i 1e', /non-canonical/)
  refuses(t, `i${'9'.repeat(30)}e`, /too long/)
  refuses(t, '03:abc', /non-canonical/)
  refuses(t, '-1:a', /unexpected byte/)
  refuses(t, 'd-1:ai1ee', /negative/) // a dict key is read as a string directly
  refuses(t, 'd01:ai1ee', /non-canonical/)
  refuses(t, 'i12', /unterminated/)
})

test('decode refuses trailing bytes and truncated input', (t) => {
  refuses(t, 'i1ei2e', /trailing/)
  refuses(t, '3:abcd', /trailing/)
  refuses(t, 'lee', /trailing/)
  refuses(t, 'de ', /trailing/)
  refuses(t, '', /unexpected end/)
  refuses(t, '5:abc', /past the end/)
  refuses(t, 'li1e', /unterminated|unexpected end/)
  refuses(t, 'd1:a', /unexpected end|unterminated/)
  refuses(t, 'x', /unexpected byte/)
})

test('decode refuses nesting deeper than the limit, without overflowing the stack', (t) => {
  // A value's depth is the number of lists/dicts around it; the top level is 0.
  t.notThrows(() => decode(b('lli1eee'), { maxDepth: 2 }))
  refuses(t, 'llli1eeee', /deeper than 2/, { maxDepth: 2 })
  t.notThrows(() => decode(b('llleee'), { maxDepth: 2 }))
  refuses(t, 'lllleeee', /deeper than 2/, { maxDepth: 2 })
  refuses(t, 'd1:ad1:ad1:ai1eeee', /deeper than 2/, { maxDepth: 2 })
  const deep = (n: number) => 'l'.repeat(n) + 'e'.repeat(n)
  t.notThrows(() => decode(b(deep(DEFAULT_LIMITS.maxDepth))))
  refuses(t, deep(DEFAULT_LIMITS.maxDepth + 2), /deeper/)
  refuses(t, deep(200_000), /deeper/) // would blow the stack if unbounded
})

test('decode refuses strings, inputs and item counts over the limits', (t) => {
  refuses(t, '5:abcde', /over the limit/, { maxStringBytes: 4 })
  t.notThrows(() => decode(b('4:abcd'), { maxStringBytes: 4 }))
  refuses(t, `${2 ** 40}:x`, /over the limit/) // a huge claimed length is refused before any allocation
  refuses(t, `${DEFAULT_LIMITS.maxStringBytes + 1}:`, /over the limit/)
  refuses(t, 'li1ei2ei3ee', /more than 2 items/, { maxItems: 2 })
  refuses(t, 'd1:ai1e1:bi2e1:ci3ee', /more than 2 items/, { maxItems: 2 })
  refuses(t, '4:abcd', /over the 5-byte limit/, { maxBytes: 5 })
})

test('decode errors say whether a limit was exceeded or the syntax is bad', (t) => {
  const over = (bytes: string, limits: Parameters<typeof decode>[1]) => (t.throws(() => decode(Buffer.from(bytes), limits)) as BencodeError).overLimit
  t.true(over('4:spam', { maxStringBytes: 3 }))
  t.true(over('lllleeee', { maxDepth: 2 }))
  t.true(over('li1ei2ei3ee', { maxItems: 2 }))
  t.true(over('i1e', { maxBytes: 2 }))
  t.false(over('d1:b0:1:a0:e', {}))
  t.false(over('i01e', {}))
  t.false(over('4:spa', {}))
})
