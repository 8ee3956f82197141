// The circle: own devices (online, what each holds), friends, and pairing a
// new device (a code to type and a QR code for phones).
import { useCallback, useEffect, useState } from 'react'
import { api, describe } from './api.ts'
import { linkLabel, type DeviceLinkView } from '../logic/index.ts'
import type { Notify } from './types.ts'
import type { PageDevice } from './runtime.ts'
import { PageDeviceSection } from './PageDeviceSection.tsx'

interface Circle {
  owner: string
  self: string
  devices: Array<{
    device: string
    name: string
    role: string
    online: boolean
    self: boolean
    revoked: boolean
    tracks: number
    /** How the link runs (direct, to a router's mapped port, punched through NATs, or through a relay device) and its round trip. */
    link: DeviceLinkView | null
    unreachable: string | null
  }>
  friends: Array<{ owner: string; name: string; devicesOnline: number }>
}

interface Pairing {
  code: string
  expiresAt: number
  qrSvg: string
}

/** POST /api/pair/link: a link that pairs a phone's (or any) browser as a device. */
interface BrowserLink {
  url: string
  expiresAt: number
  qrSvg: string
  /** Whether the link's origin is a secure context for browsers (https, or this machine). */
  secureContext: boolean
  /** The node's API listens on loopback only: no other machine can open the link. */
  thisMachineOnly: boolean
}

const REFRESH = 5000 // ms

export function DevicesPage({ notify, runtime }: { notify: Notify; runtime?: PageDevice | null }) {
  const [circle, setCircle] = useState<Circle | null>(null)
  const [pairing, setPairing] = useState<Pairing | null>(null)
  const [busy, setBusy] = useState(false)
  const [link, setLink] = useState<BrowserLink | null>(null)
  /** The device whose Revoke was pressed once: the second press revokes. */
  const [revoking, setRevoking] = useState<string | null>(null)
  const [now, setNow] = useState(Date.now())

  const load = useCallback(
    () => api<Circle>('/api/circle').then(setCircle, (err) => notify(`Devices could not be loaded: ${describe(err)}`)),
    [notify],
  )
  useEffect(() => {
    void load()
    const t = window.setInterval(() => void load(), REFRESH)
    return () => window.clearInterval(t)
  }, [load])
  useEffect(() => {
    if (!pairing && !link) return
    const t = window.setInterval(() => setNow(Date.now()), 1000)
    return () => window.clearInterval(t)
  }, [pairing, link])

  const pairBrowser = async () => {
    setBusy(true)
    try {
      setLink(await api<BrowserLink>('/api/pair/link', { method: 'POST', body: {} }))
      setNow(Date.now())
    } catch (err) {
      notify(`Pairing could not start: ${describe(err)}`)
    } finally {
      setBusy(false)
    }
  }

  const pair = async () => {
    setBusy(true)
    try {
      setPairing(await api<Pairing>('/api/pair', { method: 'POST', body: {} }))
      setNow(Date.now())
    } catch (err) {
      notify(`Pairing could not start: ${describe(err)}`)
    } finally {
      setBusy(false)
    }
  }

  const revoke = async (device: string) => {
    setBusy(true)
    try {
      await api('/api/devices/revoke', { method: 'POST', body: { device } })
      setRevoking(null)
      await load()
    } catch (err) {
      notify(`The device could not be revoked: ${describe(err)}`)
    } finally {
      setBusy(false)
    }
  }

  const isAdmin = circle?.devices.some((d) => d.self && d.role === 'admin') ?? false
  const left = pairing ? Math.max(0, Math.round((pairing.expiresAt - now) / 1000)) : 0
  const linkLeft = link ? Math.max(0, Math.round((link.expiresAt - now) / 1000)) : 0
  const clock = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
  return (
    <section className="devices">
      {runtime && <PageDeviceSection runtime={runtime} notify={notify} />}
      <h2>Your devices</h2>
      <ul className="device-list">
        {circle?.devices.map((d) => (
          <li key={d.device} data-testid="device-item" data-name={d.name} data-online={String(d.online)} className={`${d.online ? 'on' : 'off'}${d.revoked ? ' revoked' : ''}`}>
            <span className="dot" aria-hidden />
            <b>{d.name}</b>
            {d.self && <i className="here">this device</i>}
            <span className="dim">{d.role}</span>
            <span>{d.revoked ? 'revoked' : d.online ? 'online' : 'offline'}</span>
            {d.link && (
              <span className="dim" data-testid="device-path" title="How this device is linked, and its round trip">
                {linkLabel(d.link)}
              </span>
            )}
            {d.unreachable && <span className="dim" data-testid="device-unreachable">{d.unreachable}</span>}
            <span className="dim">{d.tracks} tracks</span>
            {isAdmin && !d.self && !d.revoked && (
              revoking === d.device ? (
                <span>
                  Revoke {d.name}? It loses access to your circle for good.{' '}
                  <button data-testid="device-revoke-confirm" disabled={busy} onClick={() => void revoke(d.device)}>
                    Revoke
                  </button>{' '}
                  <button onClick={() => setRevoking(null)}>Cancel</button>
                </span>
              ) : (
                <button data-testid="device-revoke" onClick={() => setRevoking(d.device)}>
                  Revoke
                </button>
              )
            )}
          </li>
        ))}
        {!circle && <li className="dim">Loading…</li>}
      </ul>
      <h2>Friends</h2>
      <ul className="device-list">
        {circle?.friends.map((f) => (
          <li key={f.owner} data-testid="friend-item" data-name={f.name} className={f.devicesOnline ? 'on' : 'off'}>
            <span className="dot" aria-hidden />
            <b>{f.name}</b>
            <span className="dim">{f.devicesOnline} online</span>
            <code className="dim" title="Owner id (to share playlists with)">{f.owner}</code>
          </li>
        ))}
        {circle && circle.friends.length === 0 && <li className="dim">No friends yet</li>}
      </ul>
      {circle && (
        <p className="dim">
          Your owner id (friends share with it): <code data-testid="owner-id">{circle.owner}</code>
        </p>
      )}
      <h2>Pair a device</h2>
      <button data-testid="pair-start" onClick={() => void pair()} disabled={busy}>
        {pairing ? 'New code' : 'Pair a new device'}
      </button>
      {pairing && (
        <div className="pairing">
          <img data-testid="pair-qr" alt="Pairing QR code" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(pairing.qrSvg)}`} />
          <div className="pair-text">
            <p>
              On the new device run <code>djcloud join &lt;code&gt;</code> with this code (a phone can scan it):
            </p>
            <p className="code" data-testid="pair-code">
              {pairing.code}
            </p>
            <p className="dim">{left > 0 ? `expires in ${clock(left)}` : 'expired: make a new code'}</p>
          </div>
        </div>
      )}
      <h2>Pair a phone or browser</h2>
      <button data-testid="pair-browser-start" onClick={() => void pairBrowser()} disabled={busy}>
        {link ? 'New link' : 'Pair a phone or browser'}
      </button>
      {link && (
        <div className="pairing">
          <img data-testid="pair-browser-qr" alt="Pairing link QR code" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(link.qrSvg)}`} />
          <div className="pair-text">
            <p>Scan it with the phone, or open the link in the browser to pair (once, by one browser):</p>
            <p className="code">
              <a data-testid="pair-browser-link" href={link.url} target="_blank" rel="noreferrer">
                {link.url}
              </a>
            </p>
            {link.thisMachineOnly && (
              <p className="dim" data-testid="pair-browser-local">
                Only a browser on this computer can open it: for a phone, start the node with <code>djcloud serve --listen 0.0.0.0</code>.
              </p>
            )}
            {!link.secureContext && (
              <p className="warning" data-testid="pair-browser-insecure">
                This link is plain http to a LAN address: the browser there cannot protect the device key (WebCrypto needs https or this
                machine), so it keeps it in its storage, and anyone watching this network could read what pairing sends. Pair on a network
                you trust (docs/identity.md, "Browser devices"), or serve the UI over HTTPS with a certificate the phone trusts (
                <code>djcloud serve --tls-cert FILE --tls-key FILE</code>, docs/ui.md): the browser then is a full device.
              </p>
            )}
            <p className="dim">{linkLeft > 0 ? `expires in ${clock(linkLeft)}` : 'expired: make a new link'}</p>
          </div>
        </div>
      )}
    </section>
  )
}
