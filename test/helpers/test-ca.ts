// TLS for tests. A certificate authority and server certificates made for one test by the
// openssl command in the test's temp dir (P-256), as a user's LAN CA (mkcert)
// would make them: what `serve --tls-cert/--tls-key` is given. Nothing here is
// trusted outside the test: clients are handed the CA (or the leaf's SPKI hash).
import { execFile } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { readFile, writeFile } from 'node:fs/promises'
import type { LookupFunction } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestCa {
  /** The CA's certificate (PEM): what a client trusts. */
  caPem: string
  caFile: string
  /** Makes a server certificate (PEM files) for these subjectAltName entries (`DNS:x`, `IP:1.2.3.4`; none: no extension), signed by the CA. */
  leaf(name: string, sans: readonly string[]): Promise<TestLeaf>
}

export interface TestLeaf {
  certFile: string
  keyFile: string
  certPem: string
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's --ignore-certificate-errors-spki-list). */
  spkiHash: string
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

/** A new CA in `dir`. */
export async function makeTestCa(dir: string): Promise<TestCa> {
  const caFile = join(dir, 'ca.pem')
  const caKey = join(dir, 'ca.key')
  await run('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=djcloud test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  const caPem = await readFile(caFile, 'utf8')
  return {
    caPem,
    caFile,
    async leaf(name, sans) {
      const base = join(dir, name)
      const [certFile, keyFile, csr, ext] = [`${base}.pem`, `${base}.key`, `${base}.csr`, `${base}.ext`]
      await run('openssl', ['req', ...ec, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`])
      await writeFile(ext, `${sans.length ? `subjectAltName=${sans.join(',')}\n` : ''}basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`)
      await run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext])
      const certPem = await readFile(certFile, 'utf8')
      const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })
      return { certFile, keyFile, certPem, spkiHash: createHash('sha256').update(spki).digest('base64') }
    },
  }
}

/** A `lookup` for node:net clients: every name (dj-laptop.test) resolves to 127.0.0.1, as the LAN's DNS would to the laptop. */
export const toLoopback: LookupFunction = (_host, options, callback) => {
  if (options.all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

/** A plain-HTTP GET /api/health to 127.0.0.1:port: the error it ends with, and how many bytes came back (-1: an HTTP answer). */
export function plainHttp(port: number): Promise<{ error?: Error; bytes: number }> {
  return new Promise((resolve) => {
    let bytes = 0
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/health', agent: false })
    req.on('socket', (s) => s.on('data', (d: Buffer) => (bytes += d.length)))
    req.on('response', () => resolve({ bytes: -1 }))
    req.on('error', (error) => resolve({ error, bytes })).end()
  })
}
