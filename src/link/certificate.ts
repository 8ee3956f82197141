// Self-signed Ed25519 X.509 certificates for node:tls, which needs one on
// every TLS server. The DER is built by @peculiar/asn1-x509's schemas and
// signed by node:crypto; nothing here is hand-written crypto. The ASN.1
// libraries load on first use (docs/decisions/lazy-heavy-dependencies.md):
// most commands never open a port.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'

const ED25519_OID = '1.3.101.112'
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface TlsCredentials {
  /** PEM, for tls.createServer / tls.connect. */
  key: string
  cert: string
  /** The certificate's raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array
}

const toArrayBuffer = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer

/**
 * A certificate for `key` signed by itself, valid 2020-2049 (clocks on
 * phones and fresh devices are often wrong; nothing here relies on dates).
 * `seed` (32 bytes) makes it from a device key; without it, a throwaway key.
 */
export async function selfSignedCertificate(seed?: Uint8Array): Promise<TlsCredentials> {
  const { AsnConvert } = await import('@peculiar/asn1-schema')
  const { AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, Certificate, Name, RelativeDistinguishedName, SubjectPublicKeyInfo, TBSCertificate, Validity, Version } =
    await import('@peculiar/asn1-x509')
  const privateKey: KeyObject = seed
    ? createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    : generateKeyPairSync('ed25519').privateKey
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  const algorithm = new AlgorithmIdentifier({ algorithm: ED25519_OID })
  const name = new Name([
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: 'djcloud' }) })]),
  ])
  const serial = randomBytes(8)
  serial[0] = serial[0]! & 0x7f || 1 // a positive INTEGER in minimal DER (no leading zero byte)
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature: algorithm,
    issuer: name,
    subject: name,
    validity: new Validity({ notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2049, 11, 31)) }),
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
  })
  const signature = sign(null, Buffer.from(AsnConvert.serialize(tbs)), privateKey)
  const der = Buffer.from(AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: toArrayBuffer(signature) })))
  return {
    key: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    cert: new X509Certificate(der).toString(),
    publicKey: Uint8Array.from(spki.subarray(SPKI_ED25519_PREFIX.length)),
  }
}

/** The raw Ed25519 public key of a peer's DER certificate, or null when it is not an Ed25519 one. */
export function ed25519KeyOf(certDer: Uint8Array): Uint8Array | null {
  try {
    const key = new X509Certificate(certDer).publicKey
    if (key.asymmetricKeyType !== 'ed25519') return null
    const spki = key.export({ format: 'der', type: 'spki' })
    return Uint8Array.from(spki.subarray(SPKI_ED25519_PREFIX.length))
  } catch {
    return null
  }
}
