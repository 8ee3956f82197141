// Playlists: the list, create, open one, reorder its entries by drag and
// drop (POST .../move), remove, publish and share with a friend. Double-click
// an entry to play the playlist from there. A browser that runs as a
// device makes create, move and remove as itself (page-playlists.ts).
import { useCallback, useEffect, useState, type DragEvent, type FormEvent } from 'react'
import { formatTime, moveItem, toCamelot, type Holder } from '../logic/index.ts'
import { api, describe } from './api.ts'
import { GigPanel } from './GigPanel.tsx'
import type { Notify, PlayEntry, PlaylistSummary } from './types.ts'
import { editAsDevice, type PageEdit } from './page-playlists.ts'
import type { PageDevice } from './runtime.ts'

interface TrackViewLite {
  sha256: string
  audioHash: string
  tags: { title?: string; artist?: string; duration?: number; bpm?: number; key?: string }
  analysis?: { bpm?: number; camelot?: string; duration?: number }
  holders?: Holder[]
}

interface EntryView {
  id: string
  position: number
  ref: { sha256: string; audio?: string; title?: string; artist?: string }
  track: TrackViewLite | null
}

interface PlaylistView {
  name: string
  entries: EntryView[]
  shared: string[]
}

/** Who added an entry and which circles hold it (GET /api/collab/<owner>/<name>). */
interface CollabEntry {
  id: string
  addedBy: { name: string; deviceName: string | null }
  holders: Array<{ circle: string; devices: string[] }>
}

interface CollabView {
  owner: string
  collaborators: Array<{ owner: string; name: string }>
  pulls: boolean
  entries: CollabEntry[]
}

interface Props {
  playlists: PlaylistSummary[]
  onChanged: () => void
  onOpen: (name: string) => void
  notify: Notify
  playing: PlayEntry | null
  onPlay: (entries: PlayEntry[], index: number, name: string) => void
  /** The open playlist's entries whenever they change (the player's queue follows). */
  onEntries: (name: string, entries: PlayEntry[]) => void
  /** This browser's device runtime, when it runs one: create, remove and move are then its own edits. */
  runtime?: PageDevice | null
}

const path = (name: string, rest = '') => `/api/playlists/${encodeURIComponent(name)}${rest}`

/** The node API's edits a device runtime makes as itself (page-playlists.ts); null for the rest. */
function asDeviceEdit(name: string, rest: string, body: unknown): PageEdit | null {
  const b = body as { entry?: string; to?: number; entries?: string[] }
  if (rest === '/move' && typeof b.entry === 'string' && typeof b.to === 'number') return { op: 'move', name, entry: b.entry, to: b.to }
  if (rest === '/remove' && Array.isArray(b.entries)) return { op: 'remove', name, entries: b.entries }
  return null
}

function playEntry(e: EntryView): PlayEntry {
  const t = e.track
  const holders = t?.holders ?? []
  return {
    sha256: t?.sha256 ?? e.ref.sha256,
    audioHash: t?.audioHash ?? e.ref.audio ?? '',
    title: t?.tags.title ?? e.ref.title ?? '',
    artist: t?.tags.artist ?? e.ref.artist ?? '',
    camelot: toCamelot(t?.analysis?.camelot) ?? toCamelot(t?.tags.key) ?? '',
    duration: t?.analysis?.duration ?? t?.tags.duration ?? NaN,
    holders,
    playable: t && holders.length ? undefined : false,
  }
}

export function PlaylistsPage({ playlists, onChanged, onOpen, notify, playing, onPlay, onEntries, runtime = null }: Props) {
  const [open, setOpen] = useState<string | null>(playlists[0]?.name ?? null)
  const [view, setView] = useState<PlaylistView | null>(null)
  const [newName, setNewName] = useState('')
  const [friend, setFriend] = useState('')
  const [drag, setDrag] = useState<{ from: number; over: number } | null>(null)
  const [canEdit, setCanEdit] = useState(false)
  const [collab, setCollab] = useState<CollabView | null>(null)

  // Who edited what and where each entry is held, when the playlist has collaborators (or had).
  const loadCollab = useCallback(async (name: string) => {
    try {
      const { playlists: listed } = await api<{ playlists: Array<{ owner: string; ownerName: string; name: string }> }>('/api/collab')
      const mine = listed.find((p) => p.ownerName === 'you' && p.name === name)
      if (!mine) return setCollab(null)
      const { playlist } = await api<{ playlist: CollabView }>(`/api/collab/${encodeURIComponent(mine.owner)}/${encodeURIComponent(name)}`)
      setCollab(playlist)
    } catch {
      setCollab(null)
    }
  }, [])

  const load = useCallback(
    (name: string) =>
      api<{ playlist: PlaylistView }>(path(name)).then(
        ({ playlist }) => {
          setView(playlist)
          void loadCollab(name)
        },
        (err) => notify(`Playlist ${name}: ${describe(err)}`),
      ),
    [notify, loadCollab],
  )
  useEffect(() => {
    if (!open && playlists[0]) setOpen(playlists[0].name)
  }, [open, playlists])
  useEffect(() => {
    setView(null)
    if (open) {
      onOpen(open)
      void load(open)
    }
  }, [open, load, onOpen])

  useEffect(() => {
    if (view) onEntries(view.name, view.entries.map(playEntry))
  }, [view, onEntries])

  const edit = async (rest: string, body: unknown, what: string) => {
    if (!open) return
    try {
      const own = runtime && asDeviceEdit(open, rest, body)
      if (own) {
        await editAsDevice(runtime, own)
        void load(open)
        onChanged()
        return {}
      }
      const r = await api<{ playlist?: PlaylistView }>(path(open, rest), { method: 'POST', body })
      if (r?.playlist && 'shared' in r.playlist) setView(r.playlist)
      else void load(open)
      void loadCollab(open)
      onChanged()
      return r
    } catch (err) {
      notify(`${what}: ${describe(err)}`)
      void load(open)
    }
  }

  const create = async (e: FormEvent) => {
    e.preventDefault()
    const name = newName.trim()
    if (!name) return
    try {
      if (runtime) await editAsDevice(runtime, { op: 'create', name })
      else await api('/api/playlists', { method: 'POST', body: { name } })
      setNewName('')
      onChanged()
      setOpen(name)
      notify(`Created ${name}`, 'info')
    } catch (err) {
      notify(`Could not create ${name}: ${describe(err)}`)
    }
  }

  const drop = (e: DragEvent, to: number) => {
    e.preventDefault()
    const d = drag
    setDrag(null)
    if (!view || !d || d.from === to) return
    const entry = view.entries[d.from]
    if (!entry) return
    // Shown at once; the node's answer replaces it.
    setView({ ...view, entries: moveItem(view.entries, d.from, to) })
    void edit('/move', { entry: entry.id, to }, 'Could not move the track')
  }

  const publish = async () => {
    const r = (await edit('/publish', undefined, 'Could not publish')) as { devices?: number } | undefined
    if (r) notify(`Published ${open}${typeof r.devices === 'number' ? ` to ${r.devices} devices` : ''}`, 'info')
  }

  const share = async (e: FormEvent) => {
    e.preventDefault()
    const id = friend.trim()
    if (!id) return
    const r = canEdit ? await edit('/collaborators', { friend: id, edit: true }, 'Could not make a collaborator') : await edit('/share', { friend: id }, 'Could not share')
    if (r) {
      setFriend('')
      notify(`${canEdit ? 'Made a collaborator of' : 'Shared with'} ${id.slice(0, 16)}… (${open})`, 'info')
    }
  }

  const entries = view?.entries ?? []
  return (
    <section className="playlists">
      <aside className="sidebar">
        <form onSubmit={create} className="create">
          <input data-testid="playlist-create-name" placeholder="New playlist" value={newName} onChange={(e) => setNewName(e.target.value)} maxLength={200} />
          <button data-testid="playlist-create" disabled={!newName.trim()}>
            Create
          </button>
        </form>
        <ul>
          {playlists.map((p) => (
            <li key={p.name}>
              <button data-testid="playlist-item" data-name={p.name} className={p.name === open ? 'active' : ''} onClick={() => setOpen(p.name)}>
                {p.name} <span className="dim">{p.tracks}</span>
                {p.shared.length > 0 && <span className="badge" title="Shared with friends">shared</span>}
              </button>
            </li>
          ))}
          {playlists.length === 0 && <li className="dim">No playlists yet</li>}
        </ul>
      </aside>
      <div className="playlist">
        {open && (
          <>
            <div className="toolbar">
              <h2>{open}</h2>
              <button data-testid="playlist-publish" onClick={() => void publish()}>
                Publish
              </button>
              <form onSubmit={share} className="share">
                <input data-testid="playlist-share-friend" placeholder="Friend's owner id" value={friend} onChange={(e) => setFriend(e.target.value)} />
                <label className="dim" title="The friend's devices may add, move and remove entries">
                  <input type="checkbox" data-testid="playlist-share-edit" checked={canEdit} onChange={(e) => setCanEdit(e.target.checked)} /> can edit
                </label>
                <button data-testid="playlist-share" disabled={!friend.trim()}>
                  Share
                </button>
              </form>
            </div>
            {view && view.shared.length > 0 && <p className="dim">Shared with {view.shared.join(', ')}</p>}
            {collab && (
              <p className="dim" data-testid="playlist-collab">
                Collaborators: {collab.collaborators.map((c) => c.name).join(', ') || 'none now'}.{' '}
                <label title="May collaborators copy and pin your tracks of this playlist for a gig? Otherwise they only stream them.">
                  <input
                    type="checkbox"
                    data-testid="playlist-pulls"
                    checked={collab.pulls}
                    onChange={(e) => void edit('/pulls', { allow: e.target.checked }, 'Could not change the pull rule')}
                  />{' '}
                  collaborators may pull your tracks
                </label>
              </p>
            )}
            <ol className="entries" onDragOver={(e) => e.preventDefault()}>
              {entries.map((e, i) => {
                const pe = playEntry(e)
                const over = drag && drag.over === i && drag.from !== i ? (drag.from < i ? ' drop-after' : ' drop-before') : ''
                return (
                  <li
                    key={e.id}
                    data-testid="playlist-entry"
                    data-sha256={pe.sha256}
                    data-entry={e.id}
                    draggable
                    tabIndex={0}
                    className={`entry${playing?.sha256 === pe.sha256 ? ' playing' : ''}${pe.playable === false ? ' offline' : ''}${over}`}
                    onDragStart={(ev) => {
                      ev.dataTransfer.effectAllowed = 'move'
                      ev.dataTransfer.setData('text/plain', e.id)
                      setDrag({ from: i, over: i })
                    }}
                    onDragEnter={() => setDrag((d) => (d ? { ...d, over: i } : d))}
                    onDragOver={(ev) => ev.preventDefault()}
                    onDrop={(ev) => drop(ev, i)}
                    onDragEnd={() => setDrag(null)}
                    onDoubleClick={() => onPlay(entries.map(playEntry), i, open)}
                    onKeyDown={(ev) => {
                      if (ev.key === 'Enter') onPlay(entries.map(playEntry), i, open)
                      // Keyboard reordering: alt+up/down.
                      if (ev.altKey && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
                        ev.preventDefault()
                        const to = i + (ev.key === 'ArrowUp' ? -1 : 1)
                        if (to >= 0 && to < entries.length) {
                          setView({ ...view!, entries: moveItem(entries, i, to) })
                          void edit('/move', { entry: e.id, to }, 'Could not move the track')
                        }
                      }
                    }}
                  >
                    <span className="grip" aria-hidden>
                      ⋮⋮
                    </span>
                    <span className="pos">{i + 1}</span>
                    <span className="title">{pe.title || <em>{pe.sha256.slice(0, 12)}</em>}</span>
                    <span className="artist">{pe.artist}</span>
                    <span className="camelot">{pe.camelot}</span>
                    <span className="num">{formatTime(pe.duration)}</span>
                    {collab && <CollabCell entry={collab.entries.find((c) => c.id === e.id)} />}
                    <button className="ghost" data-testid="playlist-entry-remove" title="Remove from the playlist" onClick={() => void edit('/remove', { entries: [e.id] }, 'Could not remove')}>
                      ×
                    </button>
                  </li>
                )
              })}
            </ol>
            {view && entries.length === 0 && <p className="dim">Empty: add tracks from the Library with +.</p>}
            {view && entries.length > 0 && <GigPanel playlist={open} notify={notify} />}
          </>
        )}
      </div>
    </section>
  )
}

/** Who added an entry (circle, and device when it is one of ours) and which circles' devices hold it. */
function CollabCell({ entry }: { entry: CollabEntry | undefined }) {
  if (!entry) return <span className="dim" />
  const by = entry.addedBy.deviceName ? `${entry.addedBy.name} (${entry.addedBy.deviceName})` : entry.addedBy.name
  const held = entry.holders.map((h) => (h.devices.length ? `${h.circle}: ${h.devices.join(', ')}` : h.circle)).join('; ') || 'nobody online'
  return (
    <span className="dim collab" data-testid="playlist-entry-collab" title={`held by ${held}`}>
      by {by} · {held}
    </span>
  )
}
