// Gig preparation for the open playlist: pick an own device, pull every
// track there (POST /api/pull), follow the job, and show the gig-ready
// report: every track present and verified, or which are missing and why.
import { useEffect, useRef, useState } from 'react'
import { api, describe } from './api.ts'
import type { Notify } from './types.ts'

interface CircleDevice {
  device: string
  name: string
  online: boolean
  self: boolean
  revoked: boolean
}

interface ReportTrack {
  sha256: string
  title: string
  artist?: string
  positions: number[]
  state: 'present' | 'fetched' | 'missing' | string
  reason?: string
  detail?: string
  size: number
  verified: boolean
  sources: Record<string, number>
}

interface Report {
  device: { name: string }
  tracks: ReportTrack[]
  present: number
  fetched: number
  missing: number
  bytes: number
  ms: number
  ready: boolean
  pinned: boolean
}

interface Job {
  id: string
  state: 'running' | 'done' | 'failed'
  phase: string
  total: number
  done: number
  bytesDone: number
  bytesTotal: number
  active: Array<{ title: string; bytes: number; size: number }>
  error?: string
  report?: Report
}

const POLL = 500 // ms
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`

export function GigPanel({ playlist, notify }: { playlist: string; notify: Notify }) {
  const [devices, setDevices] = useState<CircleDevice[]>([])
  const [target, setTarget] = useState('')
  const [job, setJob] = useState<Job | null>(null)
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)

  useEffect(() => {
    api<{ devices: CircleDevice[] }>('/api/circle').then(
      ({ devices: d }) => setDevices(d.filter((x) => !x.revoked)),
      () => setDevices([]),
    )
  }, [])
  useEffect(() => {
    setJob(null)
    return () => clearTimeout(timer.current)
  }, [playlist])

  const follow = (id: string) => {
    timer.current = setTimeout(() => {
      api<{ job: Job }>(`/api/pull/${id}`).then(
        ({ job: j }) => {
          setJob(j)
          if (j.state === 'running') follow(id)
        },
        (err) => notify(`Gig pull: ${describe(err)}`),
      )
    }, POLL)
  }

  const start = async () => {
    try {
      const chosen = devices.find((d) => d.device === target)
      const { job: j } = await api<{ job: Job }>('/api/pull', { method: 'POST', body: { playlist, ...(chosen && !chosen.self ? { device: chosen.device } : {}) } })
      setJob(j)
      follow(j.id)
    } catch (err) {
      notify(`Could not start the pull: ${describe(err)}`)
    }
  }

  const r = job?.report
  return (
    <div className="gig" data-testid="gig-panel">
      <div className="toolbar">
        <strong>Gig preparation</strong>
        <select data-testid="gig-device" value={target} onChange={(e) => setTarget(e.target.value)} aria-label="Device to prepare">
          <option value="">this device</option>
          {devices
            .filter((d) => !d.self)
            .map((d) => (
              <option key={d.device} value={d.device} disabled={!d.online}>
                {d.name}
                {d.online ? '' : ' (offline)'}
              </option>
            ))}
        </select>
        <button data-testid="gig-pull" disabled={job?.state === 'running'} onClick={() => void start()}>
          Make gig-ready
        </button>
        {job?.state === 'running' && (
          <span className="dim" data-testid="gig-progress">
            {job.phase === 'verifying' ? 'verifying' : 'pulling'} {job.done}/{job.total} tracks, {mb(job.bytesDone)} of {mb(job.bytesTotal)}
            {job.active[0] ? ` — ${job.active[0].title}` : ''}
          </span>
        )}
        {job?.state === 'failed' && <span className="error">Failed: {job.error}</span>}
      </div>
      {r && (
        <div data-testid="gig-report" data-ready={r.ready ? 'true' : 'false'}>
          <p className={r.ready ? 'ok' : 'error'}>
            {r.ready ? 'Gig-ready' : 'NOT gig-ready'} on {r.device.name}: {r.present}/{r.tracks.length} present and verified ({r.fetched} fetched, {mb(r.bytes)} in{' '}
            {(r.ms / 1000).toFixed(1)} s){r.missing ? `, ${r.missing} missing` : ''}
            {r.pinned ? '' : '. Not pinned (no cache pins in this build).'}
          </p>
          {r.missing > 0 && (
            <ul>
              {r.tracks
                .filter((t) => t.state === 'missing')
                .map((t) => (
                  <li key={t.sha256} data-testid="gig-missing">
                    {t.positions[0]}. {[t.artist, t.title].filter(Boolean).join(' - ')}: {t.reason}
                    {t.detail ? ` (${t.detail})` : ''}
                  </li>
                ))}
            </ul>
          )}
        </div>
      )}
    </div>
  )
}
