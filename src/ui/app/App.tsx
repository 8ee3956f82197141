// The shell: navigation, the error banner, the library loaded once, and the
// player docked at the bottom for every page.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { fromCompact, fromTrackViews, offlineBanner, reconcile, withPlays, type CompactLibrary, type Library, type TrackViewLike } from '../logic/index.ts'
import { api, apiKept, ApiError, describe, ensureStreamSession, pageToken, startSession } from './api.ts'
import { loadDevice } from '../device/index.ts'
import { ErrorBoundary } from './ErrorBoundary.tsx'
import { LibraryPage } from './LibraryPage.tsx'
import { Player } from './Player.tsx'
import { PlaylistsPage } from './PlaylistsPage.tsx'
import { DevicesPage } from './DevicesPage.tsx'
import { StatsPage } from './StatsPage.tsx'
import { DjSoftwarePage } from './DjSoftwarePage.tsx'
import { TokenForm } from './TokenForm.tsx'
import { registerServiceWorker } from './pwa.ts'
import { runsHere, startRuntime, type PageDevice } from './runtime.ts'
import { editAsDevice, trackRef } from './page-playlists.ts'
import type { PlayEntry, PlaylistSummary, PlayQueue } from './types.ts'

type Page = 'library' | 'playlists' | 'dj' | 'devices' | 'stats'

const LIBRARY_REFRESH = 30_000 // ms
const DEVICE_SESSION_TRIED = 'djcloud.device-session-tried'

/**
 * GET /api/library?view=compact, or the full view mapped into the same shape
 * when the node has no compact view. `cachedAt`: when the node did not answer
 * and the service worker gave its kept copy, when that copy was fetched.
 */
async function loadLibrary(): Promise<{ lib: Library; cachedAt: number | null }> {
  let lib: Library
  let at: number | null
  try {
    const r = await apiKept<CompactLibrary>('/api/library?view=compact')
    lib = fromCompact(r.body)
    at = r.cachedAt
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 400) throw err
    const r = await apiKept<{ tracks: TrackViewLike[] }>('/api/library')
    lib = fromTrackViews(r.body.tracks)
    at = r.cachedAt
  }
  // Play counts and last plays (a node without play history: none).
  const counts = await api<{ tracks: Array<{ sha256: string; count: number; last: number }> }>('/api/plays/counts').catch(() => null)
  return { lib: counts ? withPlays(lib, counts.tracks) : lib, cachedAt: at }
}

export function App() {
  const [auth, setAuth] = useState<'checking' | 'ok' | 'needed'>(() => (pageToken() ? 'ok' : 'checking'))
  const [page, setPage] = useState<Page>('library')
  const [lib, setLib] = useState<Library | null>(null)
  const [banner, setBanner] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [queue, setQueue] = useState<PlayQueue | null>(null)
  const [playlists, setPlaylists] = useState<PlaylistSummary[]>([])
  const [target, setTarget] = useState<string>('')
  const [offlineAt, setOfflineAt] = useState<number | null>(null)
  const [update, setUpdate] = useState<(() => void) | null>(null)
  const noticeTimer = useRef<number>(0)
  const [runtime, setRuntime] = useState<PageDevice | null>(null)
  const libRef = useRef<Library | null>(null)
  libRef.current = lib

  const notify = useCallback((message: string, kind: 'error' | 'info' = 'error') => {
    if (kind === 'error') setBanner(message)
    else {
      setNotice(message)
      window.clearTimeout(noticeTimer.current)
      noticeTimer.current = window.setTimeout(() => setNotice(null), 3000)
    }
  }, [])

  // The page's token as a cookie too, when the node wants it for /stream (remote access on).
  useEffect(() => {
    if (pageToken()) ensureStreamSession().catch((err) => notify(`Playback may fail: ${describe(err)}`))
  }, [notify])


  // Without a token in the page, a remote browser needs a session first.
  // (The page kept for offline use has no token either: with the node away,
  // the library's offline banner says so, not an error.)
  useEffect(() => {
    if (auth !== 'checking') return
    api('/api/health')
      .then(() => setAuth('ok'))
      .catch(async (err) => {
        if (!(err instanceof ApiError && err.status === 401)) {
          setAuth('ok')
          if (!(err instanceof ApiError && err.code === 'ERR_OFFLINE')) notify(describe(err))
          return
        }
        // A browser paired as a device of the circle by this node opens a session with its own token.
        // Once per tab: a session the node then refuses must not reload the page forever.
        const device = sessionStorage.getItem(DEVICE_SESSION_TRIED) ? null : await loadDevice().catch(() => null)
        if (device?.node === location.origin) {
          sessionStorage.setItem(DEVICE_SESSION_TRIED, '1')
          if (await startSession(device.token).then(() => true, () => false)) return location.reload()
        }
        setAuth('needed')
      })
  }, [auth, notify])

  const reloadLibrary = useCallback(() => {
    loadLibrary().then(
      (r) => {
        setLib(r.lib)
        setOfflineAt(r.cachedAt)
      },
      (err) => notify(`The library could not be loaded: ${describe(err)}`),
    )
  }, [notify])

  const reloadPlaylists = useCallback(() => {
    api<{ playlists: PlaylistSummary[] }>('/api/playlists').then(
      ({ playlists }) => {
        setPlaylists(playlists)
        setTarget((t) => (t && playlists.some((p) => p.name === t) ? t : (playlists[0]?.name ?? '')))
      },
      (err) => notify(`Playlists could not be loaded: ${describe(err)}`),
    )
  }, [notify])

  // Installable and offline (src/ui/sw): a new build's worker is offered, never forced.
  useEffect(() => {
    if (auth !== 'ok') return
    void registerServiceWorker({
      onUpdateReady: (apply) => setUpdate(() => apply),
      onFirstControl: () => {
        reloadLibrary()
        reloadPlaylists()
      },
    })
  }, [auth, reloadLibrary, reloadPlaylists])

  // A browser paired as a device of this node runs as one (src/browser): plays from the swarm, serves what it holds.
  useEffect(() => {
    if (auth !== 'ok') return
    let stopped = false
    let started: PageDevice | null = null
    const format = (sha256: string) => {
      const l = libRef.current
      const i = l ? l.sha256.indexOf(sha256) : -1
      return i >= 0 ? l!.format[i] : undefined
    }
    // A browser without IndexedDB is simply not a device: no banner for that.
    void loadDevice()
      .catch(() => null)
      .then((d) => (runsHere(d) ? startRuntime(d, format, (err) => console.warn('djcloud device:', err.message)) : null))
      .then(
        (r) => {
          if (stopped) return r?.stop()
          started = r
          setRuntime(r)
        },
        (err) => notify(`This browser could not join your devices: ${describe(err)}`),
      )
    return () => {
      stopped = true
      started?.stop()
      setRuntime(null)
    }
  }, [auth, notify])

  useEffect(() => {
    if (auth !== 'ok') return
    reloadLibrary()
    reloadPlaylists()
    // Devices come and go: holders' online state, and tracks they publish, refresh while the page is seen.
    const t = window.setInterval(() => document.visibilityState === 'visible' && reloadLibrary(), LIBRARY_REFRESH)
    return () => window.clearInterval(t)
  }, [auth, reloadLibrary, reloadPlaylists])

  // Opening the Playlists page shows the playlists as the node has them now: other devices
  // (another browser, a Node device) make and edit them while this page stays open.
  useEffect(() => {
    if (auth === 'ok' && page === 'playlists') reloadPlaylists()
  }, [auth, page, reloadPlaylists])

  const play = useCallback((entries: PlayEntry[], index: number, source: string) => {
    setQueue((q) => ({ source, entries, index, started: (q?.started ?? 0) + 1 }))
  }, [])

  // A playlist edited while it plays: the queue follows, the playing track goes on.
  const playlistChanged = useCallback((name: string, entries: PlayEntry[]) => {
    setQueue((q) => {
      const now = q?.entries[q.index]
      if (!q || !now || q.source !== `playlist:${name}`) return q
      const next = reconcile(q, entries, now.sha256)
      return next.index < 0 ? q : { ...next, started: q.started }
    })
  }, [])

  const addToPlaylist = useCallback(
    async (sha256: string) => {
      if (!target) return notify('Create a playlist first (Playlists), then add tracks to it from here.')
      try {
        // A browser that runs as a device adds as itself; any other page asks its node to.
        if (runtime) await editAsDevice(runtime, { op: 'add', name: target, tracks: [trackRef(libRef.current, sha256)] })
        else await api(`/api/playlists/${encodeURIComponent(target)}/tracks`, { method: 'POST', body: { tracks: [sha256] } })
        notify(`Added to ${target}`, 'info')
        reloadPlaylists()
      } catch (err) {
        notify(`Could not add to ${target}: ${describe(err)}`)
      }
    },
    [target, notify, reloadPlaylists, runtime],
  )

  const playing = queue ? (queue.entries[queue.index] ?? null) : null
  const nav = useMemo(
    () =>
      (
        [
          ['library', 'Library'],
          ['playlists', 'Playlists'],
          ['dj', 'DJ software'],
          ['devices', 'Devices'],
          ['stats', 'Stats'],
        ] as const
      ).map(([id, label]) => (
        <button key={id} data-testid={`nav-${id}`} className={page === id ? 'active' : ''} aria-current={page === id ? 'page' : undefined} onClick={() => setPage(id)}>
          {label}
        </button>
      )),
    [page],
  )

  if (auth === 'needed') return <TokenForm />

  return (
    <div className="app">
      <header className="top">
        <span className="brand">djcloud</span>
        <nav>{nav}</nav>
        {notice && (
          <span className="notice" data-testid="notice" role="status">
            {notice}
          </span>
        )}
      </header>
      {update && (
        <div className="update-banner" data-testid="update-banner" role="status">
          <span>A new version of djcloud is ready.</span>
          <button data-testid="update-reload" onClick={update}>
            Reload for the new version
          </button>
        </div>
      )}
      {offlineAt !== null && (
        <div className="offline-banner" data-testid="offline-banner" role="status">
          <span>{offlineBanner(offlineAt)}</span>
          <button data-testid="offline-retry" onClick={() => window.location.reload()}>
            Retry
          </button>
        </div>
      )}
      {banner && (
        <div className="error-banner" data-testid="error-banner" role="alert">
          <span>{banner}</span>
          <button aria-label="Dismiss" onClick={() => setBanner(null)}>
            ×
          </button>
        </div>
      )}
      <main className="main">
        <ErrorBoundary where={page}>
          {page === 'library' &&
            (lib ? (
              <LibraryPage
                lib={lib}
                playing={playing}
                onPlay={(rows, i) => play(rows, i, 'library')}
                onAdd={addToPlaylist}
                playlists={playlists}
                target={target}
                onTarget={setTarget}
                onReload={reloadLibrary}
              />
            ) : (
              <p className="loading">Loading the library…</p>
            ))}
          {page === 'playlists' && (
            <PlaylistsPage
              playlists={playlists}
              onChanged={reloadPlaylists}
              onOpen={setTarget}
              notify={notify}
              playing={playing}
              onPlay={(entries, i, name) => play(entries, i, `playlist:${name}`)}
              onEntries={playlistChanged}
              runtime={runtime}
            />
          )}
          {page === 'dj' && (
            <DjSoftwarePage
              playlists={playlists}
              notify={notify}
              onImported={() => {
                reloadPlaylists()
                reloadLibrary()
              }}
            />
          )}
          {page === 'devices' && <DevicesPage notify={notify} runtime={runtime} />}
          {page === 'stats' && <StatsPage notify={notify} />}
        </ErrorBoundary>
      </main>
      <ErrorBoundary where="The player">
        <Player queue={queue} setQueue={setQueue} notify={notify} runtime={runtime} />
      </ErrorBoundary>
    </div>
  )
}
