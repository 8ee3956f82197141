// Every signed structure decodes strictly: a valid one with one field more,
// inside its signed part (re-signed by the right key) or outside it (the
// signature untouched), is refused with its module's error code.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'
import { encode, type BDict, type BInput } from '../src/codec/index.ts'
import {
  addFriend, decodeCertificate, encodeCertificate, generateKeyPair, initIdentity, PairingError, signBytes, signRoster, startPairingHost,
  verifyRoster, type PairingWarning,
} from '../src/identity/index.ts'
import { decodePointer, encodePointer } from '../src/backup/index.ts'
import { DhtNode } from '../src/manifest/index.ts'
import { codeOf, dict, strictCircle } from './helpers/strict.ts'
import { tempDir } from './helpers/temp.ts'
import { until } from './helpers/until.ts'

const { circle, laptop, homePc } = strictCircle()

test('a device certificate with an extra field, signed or not, is refused (ERR_BAD_CERTIFICATE)', (t) => {
  const cert = laptop.certificate
  t.is(codeOf(() => decodeCertificate(encodeCertificate(cert))), 'accepted')
  const d = dict(encodeCertificate(cert))
  // Outside the signed part: the signature still verifies over the listed fields.
  t.regex(codeOf(() => decodeCertificate(encode({ ...d, extra: 1 } as BInput))), /^ERR_BAD_CERTIFICATE: .*unknown field "extra"/)
  // Inside: the owner signed it.
  const { sig: _sig, ...unsigned } = d
  const signedExtra = { ...unsigned, extra: 1 }
  const resigned = encode({ ...signedExtra, sig: signBytes(circle.owner.seed, encode(signedExtra as BInput)) } as BInput)
  t.regex(codeOf(() => decodeCertificate(resigned)), /^ERR_BAD_CERTIFICATE: .*unknown field "extra"/)
})

test('a roster with an extra field, at its top or in a friend entry, is refused (ERR_BAD_ROSTER)', (t) => {
  const friendly = addFriend(circle.roster, generateKeyPair().publicKey, 'Fiona')
  const bytes = signRoster(friendly, circle.owner.seed)
  t.is(verifyRoster(bytes, circle.owner.publicKey).friends[0]!.name, 'Fiona')
  const d = dict(bytes)
  const resign = (unsigned: BDict) => encode({ ...unsigned, sig: signBytes(circle.owner.seed, encode(unsigned as BInput)) } as BInput)
  const { sig: _sig, ...unsigned } = d
  t.regex(codeOf(() => verifyRoster(encode({ ...d, extra: 1 } as BInput))), /^ERR_BAD_ROSTER: .*unknown field "extra"/)
  t.regex(codeOf(() => verifyRoster(resign({ ...unsigned, extra: 1 }))), /^ERR_BAD_ROSTER: .*unknown field "extra"/)
  const friends = (unsigned.friends as BDict[]).map((f) => ({ ...f, extra: 1 }))
  t.regex(codeOf(() => verifyRoster(resign({ ...unsigned, friends } as BDict))), /^ERR_BAD_ROSTER: .*friend: unknown field "extra"/)
})

test('a backup pointer with an extra field, at its top or in a version, is malformed', (t) => {
  const p = encodePointer([{ seq: 2, sha256: 'ab'.repeat(32), size: 100 }])
  t.is(decodePointer(p)?.length, 1)
  t.is(decodePointer({ ...p, extra: 1 }), null)
  t.is(decodePointer({ ...p, b: p.b.map((x) => ({ ...x, extra: 1 })) }), null)
})

test('a DHT manifest pointer with an extra field is not a pointer', async (t) => {
  const warnings: Error[] = []
  const node = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [], onWarning: (e) => warnings.push(e) })
  t.teardown(() => node.close())
  const key = generateKeyPair()
  const salt = randomBytes(16)
  await node.putItem({ seed: key.seed, salt, seq: 1, v: { ih: randomBytes(20), extra: 1 } })
  t.is(await node.getPointer({ publicKey: key.publicKey, salt }), null)
  t.true(warnings.some((w) => /not a pointer/.test(w.message)))
  await node.putItem({ seed: key.seed, salt, seq: 2, v: { ih: randomBytes(20) } })
  t.is((await node.getPointer({ publicKey: key.publicKey, salt }))?.seq, 2)
})

test('a pairing message with an extra field is a protocol error (ERR_PAIRING_PROTOCOL)', async (t) => {
  const id = await initIdentity(await tempDir(t), { name: 'home-pc' })
  const warnings: PairingWarning[] = []
  const h = await startPairingHost({ identity: id, listen: '127.0.0.1', port: 0, ttlMs: 60_000, onWarning: (w) => warnings.push(w) })
  t.teardown(() => h.close())
  const s = createConnection({ host: '127.0.0.1', port: h.listening.port })
  s.on('error', () => {}).resume()
  t.teardown(() => void s.destroy())
  const hello = encode({ e: randomBytes(32), t: 'hello', v: 1, extra: 1 })
  const header = Buffer.alloc(4)
  header.writeUInt32BE(hello.length)
  s.write(Buffer.concat([header, hello]))
  const w = await until(async () => warnings[0], 10_000, 20)
  t.true(w.error instanceof PairingError)
  t.is((w.error as PairingError).code, 'ERR_PAIRING_PROTOCOL')
  t.regex(w.reason, /unknown field "extra"/)
})
