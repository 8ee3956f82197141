import test from 'ava'
import { formatId, generateKeyPair, IdentityError, parseId } from '../../src/identity/index.ts'

test('device ids round-trip and read as groups of 7 with a checksum', (t) => {
  const { publicKey } = generateKeyPair()
  const id = formatId('device', publicKey)
  t.regex(id, /^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/)
  t.deepEqual(Buffer.from(parseId('device', id)), Buffer.from(publicKey))
  // people retype ids: lower case, no dashes, spaces and look-alike digits are fine
  t.deepEqual(Buffer.from(parseId('device', id.toLowerCase().replace(/-/g, ' '))), Buffer.from(publicKey))
  t.deepEqual(Buffer.from(parseId('device', id.replace(/O/g, '0').replace(/I/g, '1'))), Buffer.from(publicKey))
})

test('a mistyped character is caught by the checksum', (t) => {
  const id = formatId('device', generateKeyPair().publicKey)
  const at = 10
  const swapped = id.slice(0, at) + (id[at] === 'A' ? 'B' : 'A') + id.slice(at + 1)
  const err = t.throws(() => parseId('device', swapped), { instanceOf: IdentityError })
  t.is(err?.code, 'ERR_BAD_ID')
  t.regex(err!.message, /checksum/)
})

test('a device id is not accepted as an owner id, and says what it is', (t) => {
  const id = formatId('device', generateKeyPair().publicKey)
  const err = t.throws(() => parseId('owner', id), { instanceOf: IdentityError })
  t.regex(err!.message, /this is a device id/)
})

test('wrong length and foreign characters are refused', (t) => {
  t.throws(() => parseId('device', 'ABC'), { message: /expected 56 characters/ })
  const id = formatId('owner', generateKeyPair().publicKey)
  t.throws(() => parseId('owner', id.replace(/[A-Z]/, '!')), { code: 'ERR_BAD_ID' } as never)
})
