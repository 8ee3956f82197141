// This device's local figures (GET /api/stats) and the plays at gigs
// (GET /api/plays/gigs): kept on the device, never sent anywhere.
import { useCallback, useEffect, useState } from 'react'
import { formatDay } from '../logic/index.ts'
import { api, describe } from './api.ts'
import type { Notify } from './types.ts'

interface Usage {
  runs: number
  usedMs: number
  uptimeMs: number
  crashes: number
  crashTimes: number[]
  samples: Array<{ at: number; devices: number }>
  warnings: Record<string, number>
  plays: number
  playedTracks: number
  devicesNow: number
}

interface Stats {
  stats: { tracks: number; missing: number; bytes: number }
  usage?: Usage
}

interface Gigs {
  gigs: Array<{ playlist: string; from: number; to: number }>
  tracks: Array<{ sha256: string; count: number; title?: string; artist?: string }>
}

const REFRESH = 10_000 // ms
const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`

export function StatsPage({ notify }: { notify: Notify }) {
  const [stats, setStats] = useState<Stats | null>(null)
  const [gigs, setGigs] = useState<Gigs | null>(null)
  const load = useCallback(() => {
    api<Stats>('/api/stats').then(setStats, (err) => notify(`Stats could not be loaded: ${describe(err)}`))
    api<Gigs>('/api/plays/gigs').then(setGigs, () => setGigs(null))
  }, [notify])
  useEffect(() => {
    load()
    const t = window.setInterval(load, REFRESH)
    return () => window.clearInterval(t)
  }, [load])
  if (!stats) return <section className="stats">Loading…</section>
  const u = stats.usage
  const peak = u ? u.samples.reduce((m, s) => Math.max(m, s.devices), 0) : 0
  const warnings = u ? Object.entries(u.warnings).sort((a, b) => b[1] - a[1]) : []
  return (
    <section className="stats" data-testid="stats-page">
      <h2>This device</h2>
      <p className="hint">Kept on this device and never sent anywhere.</p>
      <dl>
        <dt>Tracks in the library</dt>
        <dd data-testid="stats-tracks">{stats.stats.tracks}</dd>
        {u && (
          <>
            <dt>Time in use</dt>
            <dd data-testid="stats-used">{hours(u.usedMs)} over {u.runs} runs (this run {hours(u.uptimeMs)})</dd>
            <dt>Own devices linked</dt>
            <dd>{u.devicesNow} now, at most {peak} (in {u.samples.length} samples)</dd>
            <dt>Crashes</dt>
            <dd data-testid="stats-crashes">{u.crashes}{u.crashTimes.length ? `, last ${formatDay(u.crashTimes.at(-1)!)}` : ''}</dd>
            <dt>Warnings</dt>
            <dd>{warnings.length ? warnings.map(([c, n]) => `${c}: ${n}`).join(', ') : 'none'}</dd>
            <dt>Plays</dt>
            <dd data-testid="stats-plays">{u.plays} of {u.playedTracks} tracks</dd>
          </>
        )}
      </dl>
      {gigs && (
        <>
          <h2>Most played at gigs</h2>
          <p className="hint">Plays within two days after a playlist was pulled to this device for a gig ({gigs.gigs.length} pulls).</p>
          <ol data-testid="gig-plays">
            {gigs.tracks.slice(0, 50).map((t) => (
              <li key={t.sha256}>
                {t.artist ? `${t.artist} - ` : ''}{t.title ?? t.sha256.slice(0, 12)} <b>{t.count}</b>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  )
}
