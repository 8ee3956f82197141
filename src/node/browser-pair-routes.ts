// The routes of browser pairing (browser-pairing.ts): the admin page asks
// for a link, the new browser claims it. Parse, call the service, shape the
// answer.
import { checkDeviceName, PairingError } from '../identity/index.ts'
import { ApiError, queryParams, readJsonBody, sendJson, type Route } from '../player/index.ts'
import { CODE_SHAPE, type BrowserPairing } from './browser-pairing.ts'
import { qrSvg } from './qr-svg.ts'
import { MAX_PAIR_TTL } from './ui-routes.ts'

export interface BrowserPairRoutesOptions {
  pairing: BrowserPairing
  /** The origin a phone opens the UI at (scheme, host, port): the link is this with `/#pair=CODE`. */
  pageUrl: () => string
  /**
   * Whether the API listens on loopback only, so no phone can open the link
   * (default: the origin is a loopback one). Over HTTPS the origin is the
   * certificate's name even then.
   */
  thisMachineOnly?: () => boolean
}

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

export function browserPairRoutes(o: BrowserPairRoutesOptions): Route[] {
  return [
    {
      methods: ['POST'],
      path: '/api/pair/link',
      ownerOnly: true,
      async handle({ req, res, query }) {
        queryParams(query, [])
        const ttl = linkTtl(await readJsonBody(req))
        const { code, expiresAt } = o.pairing.start(ttl)
        // The code in the fragment: browsers never send a fragment to a server, so no log or proxy sees it.
        const origin = o.pageUrl()
        const url = `${origin}/#pair=${code}`
        sendJson(res, 200, { url, expiresAt, qrSvg: qrSvg(url), secureContext: isSecureOrigin(origin), thisMachineOnly: o.thisMachineOnly?.() ?? isLoopbackOrigin(origin) })
      },
    },
    {
      methods: ['POST'],
      path: '/api/pair/browser',
      // The browser has no token yet: the one-time code in the body is the credential.
      public: true,
      async handle({ req, res, query }) {
        queryParams(query, [])
        const claim = parseClaim(await readJsonBody(req))
        sendJson(res, 200, await o.pairing.claim(claim, req.socket.remoteAddress ?? ''))
      },
    },
  ]
}

/** Whether a browser treats pages of this origin as a secure context (WebCrypto, service workers, OPFS). */
export function isSecureOrigin(origin: string): boolean {
  return new URL(origin).protocol === 'https:' || isLoopbackOrigin(origin)
}

/** An origin only a browser on this machine can open (the API listens on loopback only). */
export function isLoopbackOrigin(origin: string): boolean {
  const host = new URL(origin).hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function objectBody(body: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body must be a JSON object')
  const unknown = Object.keys(body).filter((k) => !known.includes(k))
  if (unknown.length) throw new ApiError(400, 'ERR_BAD_PARAM', `unknown field "${unknown[0]}" (known: ${known.join(', ')})`)
  return body as Record<string, unknown>
}

function linkTtl(body: unknown): number | undefined {
  if (body === undefined) return undefined
  const { ttl } = objectBody(body, ['ttl'])
  if (ttl === undefined) return undefined
  if (typeof ttl !== 'number' || !(ttl >= 1 && ttl <= MAX_PAIR_TTL)) throw new ApiError(400, 'ERR_BAD_PARAM', `ttl must be a number of seconds from 1 to ${MAX_PAIR_TTL}`)
  return Math.round(ttl * 1000)
}

function parseClaim(body: unknown) {
  const b = objectBody(body, ['code', 'name', 'key', 'sig'])
  const bad = (why: string): never => {
    throw new ApiError(400, 'ERR_BAD_PARAM', why)
  }
  if (typeof b.code !== 'string' || !CODE_SHAPE.test(b.code)) bad('code must be the pairing code of the link (22 base64url characters)')
  if (typeof b.key !== 'string' || !HEX64.test(b.key)) bad('key must be the Ed25519 public key as 64 lowercase hex digits')
  if (typeof b.sig !== 'string' || !HEX128.test(b.sig)) bad('sig must be an Ed25519 signature as 128 lowercase hex digits')
  if (typeof b.name !== 'string' || /[\u0000-\u001f\u007f]/.test(b.name)) bad('name must be text without control characters')
  let name = ''
  try {
    name = checkDeviceName(b.name as string)
  } catch (err) {
    if (err instanceof PairingError) bad(err.message)
    throw err
  }
  // The claim is signed over the name as sent: one the certificate would trim is refused, not changed.
  if (name !== b.name) bad('name must not start or end with spaces')
  return { code: b.code as string, name, key: Buffer.from(b.key as string, 'hex'), sig: Buffer.from(b.sig as string, 'hex') }
}
