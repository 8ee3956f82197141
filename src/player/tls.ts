// HTTPS for the API and UI (`djcloud serve --tls-cert FILE --tls-key FILE`).
// A browser gives a page service workers, OPFS and crypto.subtle only in a
// secure context: https, or http on localhost. A phone reaching the laptop by
// its LAN name is neither unless the node speaks TLS with a certificate the
// phone trusts, so the user brings one (their LAN CA's, e.g. mkcert's;
// `tailscale cert`; a real domain's). Nothing here makes or trusts a
// certificate of its own (docs/decisions/ui-over-https.md).
//
// The certificate is checked once, when the server is made: a clear error
// then beats a phone that silently gets no service worker later.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { PlayerError } from './errors.ts'

/** The PEM files' contents as given. */
export interface ApiTlsInput {
  /** The server's certificate, then any intermediates (PEM). */
  cert: string | Buffer
  /** Its private key (PEM, unencrypted). */
  key: string | Buffer
}

/** A checked certificate and key, and what the server and its clients need of them. */
export interface ApiTls {
  cert: Buffer
  key: Buffer
  /** The certificate alone (PEM, no chain): clients on this machine trust exactly it (node.json `apiCert`). */
  leaf: string
  /**
   * Host names (exact; wildcard entries are left out) and IP addresses the
   * certificate is valid for, lowercase, IPv6 in brackets: the names the
   * server answers to (the guard's Host check).
   */
  names: string[]
  /** The first name a phone can open: a host name that is neither a wildcard nor loopback, else a non-loopback IP; undefined when none. */
  pageName: string | undefined
  /** When the certificate expires (ms since the epoch). */
  notAfter: number
}

/** Checks a certificate and key for the API server; throws PlayerError ERR_BAD_TLS saying what is wrong. */
export function apiTls(input: ApiTlsInput, now: number = Date.now()): ApiTls {
  const cert = Buffer.from(input.cert)
  const key = Buffer.from(input.key)
  const bad = (why: string): never => {
    throw new PlayerError('ERR_BAD_TLS', why)
  }
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch {
    return bad('the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)')
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(key)
  } catch (err) {
    const encrypted = /passphrase|encrypted/i.test(String((err as Error).message)) || key.includes('ENCRYPTED')
    return bad(encrypted ? 'the key file holds an encrypted key: give the key without a passphrase' : 'the key file holds no PEM private key (-----BEGIN PRIVATE KEY-----)')
  }
  if (x509.ca) bad(`the certificate is a CA's (${x509.subject.replace(/\n/g, ', ')}), not a server's: give the certificate made for this machine, signed by it`)
  if (!x509.checkPrivateKey(privateKey)) bad('the key does not belong to the certificate (they are not a pair)')
  const notBefore = Date.parse(x509.validFrom)
  const notAfter = Date.parse(x509.validTo)
  if (!(notAfter > now)) bad(`the certificate expired on ${x509.validTo}`)
  if (!(notBefore <= now)) bad(`the certificate is not valid before ${x509.validFrom}`)
  const names = sanNames(x509.subjectAltName)
  if (names.length === 0) bad('the certificate names no host (subjectAltName DNS or IP): browsers ignore its common name')
  try {
    // What node:tls itself will make of them (an unusable chain, a key type it refuses).
    createSecureContext({ cert, key } satisfies SecureContextOptions)
  } catch (err) {
    bad(`node:tls cannot use the certificate and key: ${(err as Error).message}`)
  }
  return { cert, key, leaf: x509.toString(), names, pageName: pageNameOf(names), notAfter }
}

/**
 * TLS options for a client on this machine talking to its own node: it trusts
 * exactly the certificate the node wrote into node.json (a partial chain ending
 * at that leaf), whatever names it holds, so `https://127.0.0.1:PORT` works
 * with a certificate made for `dj-laptop.local`, and nothing else is trusted.
 */
export function pinnedTls(leaf: string): { ca: string; allowPartialTrustChain: true; checkServerIdentity: () => undefined } {
  // The name check is what a pin replaces: only the holder of this certificate's key can complete the handshake.
  return { ca: leaf, allowPartialTrustChain: true, checkServerIdentity: () => undefined }
}

/** DNS and IP entries of an X509Certificate's subjectAltName string ("DNS:a, IP Address:1.2.3.4"). */
function sanNames(san: string | undefined): string[] {
  const out = new Set<string>()
  for (const entry of (san ?? '').split(', ')) {
    const dns = /^DNS:([a-z0-9.-]+)$/i.exec(entry)
    if (dns) {
      out.add(dns[1]!.toLowerCase().replace(/\.$/, ''))
      continue
    }
    const ip = /^IP Address:([0-9a-f:.]+)$/i.exec(entry)
    if (ip && isIP(ip[1]!)) out.add(isIP(ip[1]!) === 6 ? new URL(`http://[${ip[1]}]/`).hostname : ip[1]!)
  }
  return [...out]
}

function pageNameOf(names: readonly string[]): string | undefined {
  const loopback = (n: string) => n === 'localhost' || n.endsWith('.localhost') || n === '[::1]' || /^127\./.test(n)
  return names.find((n) => isIP(n) === 0 && !n.startsWith('[') && !loopback(n)) ?? names.find((n) => !loopback(n))
}
