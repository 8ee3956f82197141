// The Devices page's part for a paired browser running as a device: its own
// WebRTC links to the circle's Node devices, and the byte budget of the
// tracks it keeps (OPFS; pinned ones are never evicted).
import { useEffect, useState } from 'react'
import { formatBytes, linkLabel } from '../logic/index.ts'
import { describe } from './api.ts'
import type { PageDevice, PageLink } from './runtime.ts'
import type { Notify } from './types.ts'

const REFRESH = 2000 // ms
const MB = 1024 * 1024

export function PageDeviceSection({ runtime, notify }: { runtime: PageDevice; notify: Notify }) {
  const [links, setLinks] = useState<PageLink[]>(() => runtime.links())
  const [budget, setBudget] = useState(() => String(Math.round(runtime.budget() / MB)))
  useEffect(() => {
    const t = window.setInterval(() => setLinks(runtime.links()), REFRESH)
    return () => window.clearInterval(t)
  }, [runtime])

  const save = async () => {
    const mb = Number(budget)
    if (!Number.isFinite(mb) || mb < 0) return notify('The budget is a number of megabytes (0 or more)')
    try {
      await runtime.setBudget(Math.round(mb * MB))
      notify(`This browser keeps up to ${formatBytes(Math.round(mb * MB))} of tracks`, 'info')
    } catch (err) {
      notify(`The budget could not be set: ${describe(err)}`)
    }
  }

  return (
    <div className="page-device" data-testid="page-device">
      <h3>This browser</h3>
      {links.length === 0 ? (
        <p className="dim" data-testid="page-links-none">Not linked to any device yet.</p>
      ) : (
        <ul className="device-list">
          {links.map((l) => (
            <li key={l.device} className="on" data-testid="page-link" data-name={l.name}>
              <strong>{l.name}</strong>{' '}
              <span className="dim">{linkLabel({ path: 'webrtc', rttMs: l.rttMs ?? null })}</span>
            </li>
          ))}
        </ul>
      )}
      <label>
        Keep up to{' '}
        <input data-testid="page-budget" type="number" min={0} step={64} value={budget} onChange={(e) => setBudget(e.target.value)} /> MB of tracks
      </label>{' '}
      <button data-testid="page-budget-save" onClick={() => void save()}>
        Save
      </button>
    </div>
  )
}
