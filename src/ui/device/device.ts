// This browser as a device of the circle: paired from a link the admin
// device shows (docs/identity.md, "Browser devices"), then loaded on every
// visit, and asked to sign (the wire's authentication, in the browser's
// bundle of it, signs through `sign`).
import { claimMessage, fromBase64, toHex } from './claim.ts'
import { newDeviceKey, signWith, type KeyKind } from './keys.ts'
import { readDevice, writeDevice, type StoredDevice } from './store.ts'

export type BrowserDevice = StoredDevice

/** Why pairing failed: the node's stable code (ERR_PAIRING_USED, ERR_PAIRING_EXPIRED, ...) and its message. */
export class PairingRefused extends Error {
  override readonly name = 'PairingRefused'
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

let loaded: Promise<BrowserDevice | null> | null = null

/** This browser's device, or null when it has not been paired. */
export function loadDevice(): Promise<BrowserDevice | null> {
  loaded ??= readDevice().catch((err: unknown) => {
    loaded = null
    throw err
  })
  return loaded
}

/** Keeps a newer owner-signed roster the device's runtime took in (the record's other fields stay). */
export async function keepRoster(device: string, roster: Uint8Array): Promise<void> {
  const d = await readDevice()
  if (!d || d.device !== device) return // paired again meanwhile: not this device's
  await writeDevice({ ...d, roster })
  loaded = null
}

export interface PairOptions {
  /** The admin node's origin (default: this page's). */
  node?: string
  /** Force the fallback key (tests of the path taken where WebCrypto has no Ed25519). */
  keyKind?: KeyKind
}

/**
 * Makes this browser's key, claims the link's code with it and keeps what
 * the node answers. The key is made anew for each claim and kept only once
 * the node has certified it.
 */
export async function pairWith(code: string, name: string, opts: PairOptions = {}): Promise<BrowserDevice> {
  const node = opts.node ?? location.origin
  const trimmed = name.trim()
  const key = await newDeviceKey(opts.keyKind)
  const sig = await signWith(key, claimMessage(code, key.publicKey, trimmed))
  let res: Response
  try {
    res = await fetch(`${node}/api/pair/browser`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ code, name: trimmed, key: toHex(key.publicKey), sig: toHex(sig) }),
      credentials: 'omit',
    })
  } catch {
    throw new PairingRefused(0, 'ERR_OFFLINE', 'the device that made the link does not answer')
  }
  const body = (await res.json().catch(() => null)) as
    | { error?: { code: string; message: string } }
    | { device: string; name: string; role: 'browser'; owner: string; certificate: string; roster: string; circleSecret: string; trackers: string[]; bootstrap: string[]; token: string }
    | null
  if (!res.ok || !body || 'error' in body) {
    const e = body && 'error' in body ? body.error : undefined
    throw new PairingRefused(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText)
  }
  const w = body as Exclude<typeof body, { error?: unknown } | null>
  if (w.device !== toHex(key.publicKey)) throw new PairingRefused(res.status, 'ERR_BAD_ANSWER', 'the node certified another key')
  const device: BrowserDevice = {
    v: 1,
    key,
    device: w.device,
    name: w.name,
    role: w.role,
    owner: w.owner,
    certificate: fromBase64(w.certificate),
    roster: fromBase64(w.roster),
    circleSecret: fromBase64(w.circleSecret),
    trackers: w.trackers,
    bootstrap: w.bootstrap,
    token: w.token,
    node,
    pairedAt: Date.now(),
  }
  await writeDevice(device)
  loaded = Promise.resolve(device)
  return device
}

/** Signs with this browser's device key (async: WebCrypto signs off the main thread's call stack). */
export async function sign(bytes: Uint8Array): Promise<Uint8Array> {
  const device = await loadDevice()
  if (!device) throw new Error('this browser is not paired as a device')
  return signWith(device.key, bytes)
}
