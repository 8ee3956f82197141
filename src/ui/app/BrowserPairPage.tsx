// What a pairing link opens (`/#pair=CODE`, shown by the admin device's
// Devices page): this browser becomes a device of the circle. Its key is
// made here (non-extractable where the browser can; the page says when it
// cannot), the code claimed with it, and what the node answers kept in
// IndexedDB (src/ui/device).
import { useEffect, useState, type FormEvent } from 'react'
import { loadDevice, pairWith, PairingRefused, webCryptoEd25519, type BrowserDevice } from '../device/index.ts'
import { pageToken, startSession } from './api.ts'

/** The code of a pairing link's fragment, or null. */
export function pairCodeOf(hash: string): string | null {
  const m = /^#pair=([A-Za-z0-9_-]{1,64})$/.exec(hash)
  return m ? m[1]! : null
}

function refusal(err: unknown): string {
  if (err instanceof PairingRefused) {
    switch (err.code) {
      case 'ERR_PAIRING_USED':
        return 'This link was already used. Make a new one on your admin device (Devices, "Pair a phone or browser").'
      case 'ERR_PAIRING_EXPIRED':
        return 'This link has expired. Make a new one on your admin device (Devices, "Pair a phone or browser").'
      case 'ERR_PAIRING_CODE':
        return 'This is not a pairing link of this device. Scan the code again.'
      case 'ERR_RATE_LIMITED':
        return 'Too many wrong codes from here: wait a minute, then try again.'
      default:
        return err.message
    }
  }
  return err instanceof Error ? err.message : String(err)
}

export function BrowserPairPage({ code }: { code: string }) {
  const [name, setName] = useState('')
  const [secureKey, setSecureKey] = useState<boolean | null>(null)
  const [existing, setExisting] = useState<BrowserDevice | null>(null)
  const [paired, setPaired] = useState<BrowserDevice | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    // The code stays in memory only: not in the address bar, history or a bookmark.
    history.replaceState(null, '', location.pathname + location.search)
    void webCryptoEd25519().then(setSecureKey)
    void loadDevice().then(setExisting, () => setExisting(null))
  }, [])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const device = await pairWith(code, name)
      // A page with no token of the node's (any browser but one on the node's own machine) opens a session with the device's.
      if (!pageToken()) await startSession(device.token)
      setPaired(device)
    } catch (err) {
      setError(refusal(err))
    } finally {
      setBusy(false)
    }
  }

  if (paired) {
    return (
      <section className="token-form" data-testid="pair-done" data-device={paired.device} data-key-kind={paired.key.kind}>
        <h1>Paired</h1>
        <p>
          This browser is now <b>{paired.name}</b>, a device of your circle (role {paired.role}). It shows on your other devices' Devices page,
          where it can be revoked.
        </p>
        <p className="dim">
          Device key <code>{paired.device.slice(0, 16)}…</code>
        </p>
        <a href="/">Open djcloud</a>
      </section>
    )
  }
  return (
    <form className="token-form" onSubmit={submit} data-testid="pair-browser">
      <h1>Pair this browser</h1>
      <p>This browser becomes a device of your djcloud circle, with a key of its own.</p>
      {secureKey === true && <p className="dim" data-testid="key-kind">The key is made by this browser and cannot be read out of it, not even by djcloud.</p>}
      {secureKey === false && (
        <p className="warning" data-testid="key-kind">
          This page cannot keep a key the browser protects ({window.isSecureContext ? 'this browser has no Ed25519 in WebCrypto' : 'it is not served over https or from this machine'}).
          The key will be kept in this browser's storage, where any script of this page could read it.
        </p>
      )}
      {existing && (
        <p className="dim">
          This browser is already paired as <b>{existing.name}</b>; pairing again makes it a new device (revoke the old one on your admin device).
        </p>
      )}
      <input data-testid="pair-name" placeholder="Name of this device (e.g. Phone)" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
      <button data-testid="pair-submit" disabled={busy || !name.trim()}>
        Pair
      </button>
      {error && (
        <p className="error-banner" data-testid="pair-error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
