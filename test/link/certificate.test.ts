import test from 'ava'
import { X509Certificate } from 'node:crypto'
import { connect, createServer, type TLSSocket } from 'node:tls'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { ed25519KeyOf, selfSignedCertificate } from '../../src/link/index.ts'
import { generateKeyPair } from '../../src/identity/index.ts'

test('a certificate made from a device seed carries that device key and verifies by itself', async (t) => {
  const kp = generateKeyPair()
  const c = await selfSignedCertificate(kp.seed)
  t.deepEqual(c.publicKey, kp.publicKey)
  const x = new X509Certificate(c.cert)
  t.true(x.verify(x.publicKey))
  t.deepEqual(ed25519KeyOf(x.raw), kp.publicKey)
})

test('throwaway certificates differ each time; a non-Ed25519 or garbage certificate has no key', async (t) => {
  const a = await selfSignedCertificate()
  const b = await selfSignedCertificate()
  t.notDeepEqual(a.publicKey, b.publicKey)
  t.is(ed25519KeyOf(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])), null)
})

test('node:tls serves TLS 1.3 with it and the client sees its key', async (t) => {
  const kp = generateKeyPair()
  const c = await selfSignedCertificate(kp.seed)
  const server = createServer({ key: c.key, cert: c.cert, minVersion: 'TLSv1.3' }, (s) => s.end('ok'))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const client: TLSSocket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false })
  await once(client, 'secureConnect')
  t.is(client.getProtocol(), 'TLSv1.3')
  t.deepEqual(ed25519KeyOf(client.getPeerX509Certificate()!.raw), kp.publicKey)
  const [data] = await once(client, 'data')
  t.is(String(data), 'ok')
  client.destroy()
})

test('every certificate parses: 400 in a row (a serial number with a leading zero byte once made 1 in 128 invalid DER)', async (t) => {
  for (let i = 0; i < 400; i++) {
    const { cert } = await selfSignedCertificate()
    t.notThrows(() => new X509Certificate(cert))
  }
})
