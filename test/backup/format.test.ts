// The sealed file: a friend (owner public key only) verifies but cannot read;
// every altered byte, a cut, trailing bytes, another owner, an old seq, the
// wrong key each fail with their own code.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { deriveOwnerSecrets, newRecoveryPhrase } from '../../src/identity/index.ts'
import {
  BackupError, HEADER_BYTES, SIGNATURE_BYTES, TAG_BYTES, MAX_BACKUP_BYTES, encodeHeader, openBackup, parseHeader, sealBackup, verifyBackup,
  type BackupErrorCode,
} from '../../src/backup/index.ts'
import { signBytes } from '../../src/identity/index.ts'

const PHRASE = Array(23).fill('abandon').join(' ') + ' art'
const secrets = deriveOwnerSecrets(PHRASE)
const NOW = Date.UTC(2026, 0, 1)
const plain = Buffer.from('the compressed content '.repeat(50))
const seal = (over: Partial<Parameters<typeof sealBackup>[1]> = {}) =>
  sealBackup(plain, { owner: secrets.owner, backupKey: secrets.backupKey, seq: 7, created: NOW, ...over })

function code(fn: () => unknown): BackupErrorCode | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof BackupError) {
      if (/\n/.test(err.message)) throw new Error('a message is one line')
      return err.code
    }
    throw err
  }
  return undefined
}

test('seal, verify with the owner key alone, open with the backup key', (t) => {
  const bytes = seal()
  t.is(bytes.length, HEADER_BYTES + plain.length + TAG_BYTES + SIGNATURE_BYTES)
  const h = verifyBackup(bytes, secrets.owner.publicKey, { now: NOW })
  t.is(h.seq, 7)
  t.is(h.created, NOW)
  t.deepEqual(Buffer.from(h.owner), Buffer.from(secrets.owner.publicKey))
  t.deepEqual(Buffer.from(openBackup(bytes, h, secrets.backupKey)), plain)
  // Random nonces: two seals of the same content differ.
  t.notDeepEqual(Buffer.from(seal()), Buffer.from(bytes))
})

test('a friend holding the owner public key verifies a copy but cannot read it', (t) => {
  const bytes = seal()
  const friendView = verifyBackup(bytes, secrets.owner.publicKey, { now: NOW })
  // The plaintext appears nowhere in the file.
  t.false(Buffer.from(bytes).includes(Buffer.from('compressed content')))
  // Every key a friend could have (its own phrase's keys, the circle secret of another circle) fails.
  const friend = deriveOwnerSecrets(newRecoveryPhrase())
  for (const key of [friend.backupKey, friend.circleSecret, randomBytes(32)]) {
    t.is(code(() => openBackup(bytes, friendView, key)), 'ERR_DECRYPT')
  }
})

test('flipping any byte of any region is detected before decryption', (t) => {
  const bytes = seal()
  const regions: Array<[string, number, number, BackupErrorCode[]]> = [
    ['magic', 0, 8, ['ERR_MALFORMED']],
    ['version', 8, 10, ['ERR_UNSUPPORTED_VERSION']],
    ['flags', 10, 12, ['ERR_MALFORMED']],
    ['owner', 12, 44, ['ERR_OTHER_OWNER']],
    ['seq', 44, 52, ['ERR_BAD_SIGNATURE', 'ERR_MALFORMED']],
    ['created', 52, 60, ['ERR_BAD_SIGNATURE', 'ERR_MALFORMED']],
    ['nonce', 60, 84, ['ERR_BAD_SIGNATURE']],
    ['length', 84, 88, ['ERR_MALFORMED', 'ERR_TOO_LARGE']],
    ['ciphertext', 88, bytes.length - 64, ['ERR_BAD_SIGNATURE']],
    ['signature', bytes.length - 64, bytes.length, ['ERR_BAD_SIGNATURE']],
  ]
  for (const [name, start, end, codes] of regions) {
    for (let i = start; i < end; i += Math.max(1, Math.floor((end - start) / 16))) {
      for (const bit of [0x01, 0x80]) {
        const copy = Buffer.from(bytes)
        copy[i]! ^= bit
        const c = code(() => verifyBackup(copy, secrets.owner.publicKey, { now: NOW }))
        t.true(c !== undefined && codes.includes(c), `${name} byte ${i} bit ${bit}: ${c}`)
      }
    }
  }
})

test('truncation and trailing bytes are refused', (t) => {
  const bytes = Buffer.from(seal())
  for (const n of [0, 4, 8, 50, HEADER_BYTES, HEADER_BYTES + 10, bytes.length - 65, bytes.length - 1]) {
    t.is(code(() => verifyBackup(bytes.subarray(0, n), secrets.owner.publicKey, { now: NOW })), 'ERR_MALFORMED', `cut at ${n}`)
  }
  t.is(code(() => verifyBackup(Buffer.concat([bytes, Buffer.from([0])]), secrets.owner.publicKey, { now: NOW })), 'ERR_MALFORMED')
  t.is(code(() => verifyBackup(Buffer.from('not a backup at all, just text'), secrets.owner.publicKey, { now: NOW })), 'ERR_MALFORMED')
})

test("another owner's backup, or the wrong phrase, is refused as another owner's", (t) => {
  const other = deriveOwnerSecrets(newRecoveryPhrase())
  const bytes = seal()
  t.is(code(() => verifyBackup(bytes, other.owner.publicKey, { now: NOW })), 'ERR_OTHER_OWNER')
})

test('an old seq is a replay once a newer one is known; the same check comes after the signature', (t) => {
  const bytes = seal({ seq: 7 })
  t.is(code(() => verifyBackup(bytes, secrets.owner.publicKey, { now: NOW, knownSeq: 7 })), 'ERR_REPLAY')
  t.is(code(() => verifyBackup(bytes, secrets.owner.publicKey, { now: NOW, knownSeq: 9 })), 'ERR_REPLAY')
  t.is(code(() => verifyBackup(bytes, secrets.owner.publicKey, { now: NOW, knownSeq: 6 })), undefined)
  // A forged copy with a high seq is reported as the forgery it is.
  const forged = Buffer.from(seal({ seq: 3 }))
  forged[HEADER_BYTES]! ^= 1
  t.is(code(() => verifyBackup(forged, secrets.owner.publicKey, { now: NOW, knownSeq: 9 })), 'ERR_BAD_SIGNATURE')
})

test('the header is the associated data: moving a ciphertext to another seq or owner fails decryption even when re-signed', (t) => {
  // An attacker who could sign as the owner (but lacks the backup key) re-labels a copy.
  const bytes = Buffer.from(seal({ seq: 7 }))
  const h = parseHeader(bytes, NOW)
  const relabel = (header: Buffer) => {
    const ct = bytes.subarray(HEADER_BYTES, HEADER_BYTES + h.ciphertextLength)
    const body = Buffer.concat([header, ct])
    const sig = signBytes(secrets.owner.seed, Buffer.concat([Buffer.from('djcloud-backup/v1 sig\0', 'latin1'), body]))
    return Buffer.concat([body, sig])
  }
  const moved = relabel(encodeHeader({ ...h, seq: 8 }))
  const h2 = verifyBackup(moved, secrets.owner.publicKey, { now: NOW })
  t.is(h2.seq, 8)
  t.is(code(() => openBackup(moved, h2, secrets.backupKey)), 'ERR_DECRYPT')
  const redated = relabel(encodeHeader({ ...h, created: NOW - 1000 }))
  t.is(code(() => openBackup(redated, verifyBackup(redated, secrets.owner.publicKey, { now: NOW }), secrets.backupKey)), 'ERR_DECRYPT')
})

test('header fields out of range are refused', (t) => {
  const bytes = Buffer.from(seal())
  const h = parseHeader(bytes, NOW)
  const withHeader = (header: Buffer) => Buffer.concat([header, bytes.subarray(HEADER_BYTES)])
  t.is(code(() => parseHeader(withHeader(encodeHeader({ ...h, created: Date.UTC(2019, 0, 1) })), NOW)), 'ERR_MALFORMED')
  t.is(code(() => parseHeader(withHeader(encodeHeader({ ...h, created: NOW + 2 * 86_400_000 })), NOW)), 'ERR_MALFORMED')
  const seq0 = encodeHeader(h)
  seq0.writeBigUInt64BE(0n, 44)
  t.is(code(() => parseHeader(withHeader(seq0), NOW)), 'ERR_MALFORMED')
  const huge = encodeHeader(h)
  huge.writeBigUInt64BE(2n ** 60n, 44)
  t.is(code(() => parseHeader(withHeader(huge), NOW)), 'ERR_MALFORMED')
  const big = encodeHeader({ ...h, ciphertextLength: 0xffffffff })
  t.is(code(() => parseHeader(withHeader(big), NOW)), 'ERR_TOO_LARGE')
  t.is(code(() => verifyBackup({ length: MAX_BACKUP_BYTES + 1 } as Uint8Array, secrets.owner.publicKey)), 'ERR_TOO_LARGE')
})
