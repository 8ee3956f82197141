import test from 'ava'
import {
  decodePairingCode, encodePairingCode, generateKeyPair, PAIRING_CODE_PREFIX, PAIRING_SECRET_BYTES, PairingError,
} from '../../src/identity/index.ts'
import { randomBytes } from 'node:crypto'

function sample() {
  return {
    host: '192.168.1.23',
    port: 41234,
    deviceKey: generateKeyPair().publicKey,
    secret: Uint8Array.from(randomBytes(PAIRING_SECRET_BYTES)),
    expires: 1_764_140_000_000,
  }
}

test('a pairing code round-trips and tolerates case, spaces, line breaks and dashes', (t) => {
  const c = sample()
  const code = encodePairingCode(c)
  t.true(code.startsWith(PAIRING_CODE_PREFIX))
  t.regex(code, /^djpair1:[A-Z2-7]+$/)
  t.true(code.length < 200, `code is ${code.length} characters`)
  for (const variant of [code, code.toLowerCase(), code.replace(/(.{20})/g, '$1 \n'), code.replace(/(.{7})/g, '$1-')]) {
    const back = decodePairingCode(variant)
    t.is(back.host, c.host)
    t.is(back.port, c.port)
    t.deepEqual(Buffer.from(back.deviceKey), Buffer.from(c.deviceKey))
    t.deepEqual(Buffer.from(back.secret), Buffer.from(c.secret))
    t.is(back.expires, c.expires)
  }
})

test('the secret is at least 128 bits', (t) => {
  t.true(PAIRING_SECRET_BYTES * 8 >= 128)
  t.throws(() => encodePairingCode({ ...sample(), secret: new Uint8Array(8) }), { instanceOf: RangeError })
})

test('a mistyped, truncated or foreign code is refused before any connection', (t) => {
  const code = encodePairingCode(sample())
  const at = PAIRING_CODE_PREFIX.length + 30
  const typo = code.slice(0, at) + (code[at] === 'A' ? 'B' : 'A') + code.slice(at + 1)
  const bad = (text: string, message: RegExp) =>
    t.throws(() => decodePairingCode(text), { instanceOf: PairingError, message }, text.slice(0, 40))
  bad(typo, /checksum does not match/)
  bad(code.slice(0, -3), /checksum does not match/)
  bad(code.slice(0, PAIRING_CODE_PREFIX.length + 3), /too short|checksum/)
  bad(code.replace(PAIRING_CODE_PREFIX, 'djpair9:'), /should start with "djpair1:"/)
  bad('IIBL54K-4MBRYXH-QH7EDBW-CLKH5RR-NUGFRNM-JDNHJTJ-OWXHF2K-ZQQRFYX', /should start with/)
  bad(code + '!', /outside A-Z/)
  const e = t.throws(() => decodePairingCode(typo))
  t.is((e as PairingError).code, 'ERR_PAIRING_BAD_CODE')
})
