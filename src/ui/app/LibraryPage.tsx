// The union library as a virtualised table: only the rows in view (plus an
// overscan) are in the DOM, each ROW_HEIGHT px, so scrolling 20,000 tracks
// costs as much as scrolling 40. Search, BPM range and compatible keys filter
// row indices; a header click sorts them.
import { memo, useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import {
  compatibleKeys, filterRows, formatBpm, formatDay, formatTime, searchIndex, sortOrder, virtualWindow,
  type Library, type SortColumn,
} from '../logic/index.ts'
import { entryOf } from './entries.ts'
import type { PlayEntry, PlaylistSummary } from './types.ts'

export const ROW_HEIGHT = 34 // px, the default of --row in styles.css (phones: 44)
const OVERSCAN = 10 // rows each side
const LIBRARY_QUEUE = 200 // tracks after the one played that form its queue

const COLUMNS: Array<{ id: SortColumn; label: string }> = [
  { id: 'title', label: 'Title' },
  { id: 'artist', label: 'Artist' },
  { id: 'album', label: 'Album' },
  { id: 'bpm', label: 'BPM' },
  { id: 'key', label: 'Key' },
  { id: 'duration', label: 'Time' },
  { id: 'format', label: 'Format' },
  { id: 'plays', label: 'Plays' },
  { id: 'lastPlayed', label: 'Last played' },
]

interface Props {
  lib: Library
  playing: PlayEntry | null
  onPlay: (entries: PlayEntry[], index: number) => void
  onAdd: (sha256: string) => void
  playlists: PlaylistSummary[]
  target: string
  onTarget: (name: string) => void
  onReload: () => void
}

const numberOrUndefined = (s: string) => (s.trim() === '' || !Number.isFinite(Number(s)) ? undefined : Number(s))

export function LibraryPage({ lib, playing, onPlay, onAdd, playlists, target, onTarget, onReload }: Props) {
  const [sort, setSort] = useState<{ col: SortColumn; desc: boolean } | null>(null)
  const [query, setQuery] = useState('')
  const [bpmMin, setBpmMin] = useState('')
  const [bpmMax, setBpmMax] = useState('')
  const [compatible, setCompatible] = useState(false)
  const deferredQuery = useDeferredValue(query)

  // The search text of every row, folded once, on the first search.
  const hay = useRef<{ lib: Library; index: string[] } | null>(null)
  const index = useCallback(() => {
    if (hay.current?.lib !== lib) hay.current = { lib, index: searchIndex(lib) }
    return hay.current.index
  }, [lib])

  const order = useMemo(() => (sort ? sortOrder(lib, sort.col, sort.desc) : undefined), [lib, sort])
  // Without a playing track of known key there is nothing to be compatible with: no filter.
  const keys = useMemo(() => (compatible && playing?.camelot ? compatibleKeys(playing.camelot) : undefined), [compatible, playing?.camelot])
  const rows = useMemo(
    () => filterRows(lib, { query: deferredQuery, bpmMin: numberOrUndefined(bpmMin), bpmMax: numberOrUndefined(bpmMax), keys }, order, index),
    [lib, deferredQuery, bpmMin, bpmMax, keys, order, index],
  )

  const playRow = useCallback(
    (pos: number) => {
      const picked = rows.slice(pos, pos + LIBRARY_QUEUE).map((r) => entryOf(lib, r))
      onPlay(picked, 0)
    },
    [rows, lib, onPlay],
  )

  // bench/ui reads this mark: the first time the table shows the library's rows.
  useEffect(() => {
    if (lib.size > 0 && performance.getEntriesByName('djcloud:interactive').length === 0) performance.mark('djcloud:interactive')
  }, [lib])

  const clickHeader = (col: SortColumn) =>
    setSort((s) => (s?.col === col ? (s.desc ? null : { col, desc: true }) : { col, desc: false }))

  return (
    <section className="library">
      <div className="toolbar">
        <input
          data-testid="search-input"
          className="search"
          type="search"
          placeholder="Search title, artist, album, genre, key"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-label="Search the library"
        />
        <label className="bpm">
          BPM
          <input data-testid="bpm-min" type="number" min={0} max={999} inputMode="decimal" placeholder="min" value={bpmMin} onChange={(e) => setBpmMin(e.target.value)} />
          –
          <input data-testid="bpm-max" type="number" min={0} max={999} inputMode="decimal" placeholder="max" value={bpmMax} onChange={(e) => setBpmMax(e.target.value)} />
        </label>
        <label className="check" title={playing?.camelot ? `Keys that mix with ${playing.camelot}` : 'Play a track with a known key first'}>
          <input data-testid="key-compatible" type="checkbox" checked={compatible} onChange={(e) => setCompatible(e.target.checked)} />
          Compatible keys{compatible && playing?.camelot ? ` (${[...(keys ?? [])].join(' ')})` : ''}
        </label>
        <label className="target">
          Add to
          <select data-testid="add-target" value={target} onChange={(e) => onTarget(e.target.value)}>
            {playlists.length === 0 && <option value="">(no playlists)</option>}
            {playlists.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <span className="count" data-testid="track-count">
          {rows.length === lib.size ? `${lib.size} tracks` : `${rows.length} of ${lib.size}`}
        </span>
        <button className="ghost" data-testid="library-reload" onClick={onReload} title="Load the library again">
          ↻
        </button>
      </div>
      <div className="thead row" role="row">
        {COLUMNS.map((c) => (
          <button
            key={c.id}
            className={`cell c-${c.id}`}
            data-testid={`column-header-${c.id}`}
            aria-sort={sort?.col === c.id ? (sort.desc ? 'descending' : 'ascending') : 'none'}
            onClick={() => clickHeader(c.id)}
          >
            {c.label}
            {sort?.col === c.id ? (sort.desc ? ' ▼' : ' ▲') : ''}
          </button>
        ))}
        <span className="cell c-avail">Devices</span>
        <span className="cell c-act" />
      </div>
      <VirtualRows
        lib={lib}
        rows={rows}
        resetKey={`${deferredQuery}\u0000${bpmMin}\u0000${bpmMax}\u0000${[...(keys ?? [])].join()}\u0000${sort?.col}${sort?.desc}`}
        playing={playing?.sha256 ?? null}
        onPlay={playRow}
        onAdd={onAdd}
      />
      {lib.size === 0 && <p className="empty">No tracks yet: scan a folder with <code>djcloud scan DIR</code>, or pair a device that has some.</p>}
    </section>
  )
}

interface RowsProps {
  lib: Library
  rows: number[]
  /** Changes when the filter or sort does (not when the library reloads): scrolls back to the top. */
  resetKey: string
  playing: string | null
  onPlay: (pos: number) => void
  onAdd: (sha256: string) => void
}

function VirtualRows({ lib, rows, resetKey, playing, onPlay, onAdd }: RowsProps) {
  const box = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  const [rowHeight, setRowHeight] = useState(ROW_HEIGHT)
  const frame = useRef(0)

  // The viewport and the row height (--row: taller rows on phones) whenever the layout changes.
  useLayoutEffect(() => {
    const el = box.current
    if (!el) return
    const measure = () => {
      setHeight(el.clientHeight)
      const css = parseFloat(getComputedStyle(el).getPropertyValue('--row'))
      setRowHeight(css > 0 ? css : ROW_HEIGHT)
    }
    measure()
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  // A new filter or sort starts at the top.
  useEffect(() => {
    if (box.current) box.current.scrollTop = 0
    setScrollTop(0)
  }, [resetKey])

  const onScroll = () => {
    cancelAnimationFrame(frame.current)
    frame.current = requestAnimationFrame(() => setScrollTop(box.current?.scrollTop ?? 0))
  }
  const w = virtualWindow(scrollTop, height, rowHeight, rows.length, OVERSCAN)
  const visible = []
  for (let pos = w.start; pos < w.end; pos++) {
    const r = rows[pos]!
    visible.push(<Row key={r} lib={lib} r={r} pos={pos} playing={lib.sha256[r] === playing} onPlay={onPlay} onAdd={onAdd} />)
  }
  return (
    <div className="tbody" data-testid="library-table" ref={box} onScroll={onScroll} role="table" aria-rowcount={rows.length}>
      <div style={{ height: w.total, position: 'relative' }}>
        <div style={{ transform: `translateY(${w.offset}px)` }}>{visible}</div>
      </div>
    </div>
  )
}

interface RowProps {
  lib: Library
  r: number
  pos: number
  playing: boolean
  onPlay: (pos: number) => void
  onAdd: (sha256: string) => void
}

const Row = memo(function Row({ lib, r, pos, playing, onPlay, onAdd }: RowProps) {
  const sha = lib.sha256[r]!
  const holders = lib.holders[r]!
  const bpm = lib.bpm[r]!
  const camelot = lib.camelot[r]!
  const keyName = lib.keyName[r]!
  const unavailable = holders.length === 0 || !holders.some((h) => h.online)
  return (
    <div
      className={`row${playing ? ' playing' : ''}${unavailable ? ' offline' : ''}`}
      role="row"
      tabIndex={0}
      data-testid="track-row"
      data-sha256={sha}
      onDoubleClick={(e) => !(e.target as HTMLElement).closest('button') && onPlay(pos)}
      onKeyDown={(e) => {
        if (e.target !== e.currentTarget) return // keys on the row's buttons are theirs
        if (e.key === 'Enter') onPlay(pos)
        else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault()
          const next = (e.currentTarget[e.key === 'ArrowDown' ? 'nextElementSibling' : 'previousElementSibling'] as HTMLElement | null)
          next?.focus()
        }
      }}
    >
      <span className="cell c-title" title={lib.title[r]}>
        {lib.title[r] || <em>untitled</em>}
      </span>
      <span className="cell c-artist">{lib.artist[r]}</span>
      <span className="cell c-album">{lib.album[r]}</span>
      <span className="cell c-bpm num">{formatBpm(bpm)}</span>
      <span className="cell c-key" title={keyName}>
        {camelot ? <b className={`camelot k${camelot}`}>{camelot}</b> : null} <span className="keyname">{camelot && keyName === camelot ? '' : keyName}</span>
      </span>
      <span className="cell c-duration num">{formatTime(lib.duration[r])}</span>
      <span className="cell c-format">{lib.format[r]}</span>
      <span className="cell c-plays num" data-testid="plays">{lib.plays[r] ? lib.plays[r] : ''}</span>
      <span className="cell c-lastPlayed" data-testid="last-played">{formatDay(lib.lastPlayed[r]!)}</span>
      <span className="cell c-avail" data-testid="availability">
        {lib.cached[r] === 1 && (
          <span data-testid="cached-here" className="holder cached" title="fetched from other devices: whole and verified in this device's cache">
            cached here
          </span>
        )}
        {holders.length === 0 ? (
          lib.cached[r] === 1 ? null : <span className="none">nowhere</span>
        ) : (
          holders.map((h) => (
            <span key={h.name} data-testid="holder" data-online={String(h.online)} className={`holder${h.online ? ' on' : ''}${h.self ? ' self' : ''}`} title={h.online ? 'online' : 'offline'}>
              {h.name}
              {h.self && <i className="here">here</i>}
            </span>
          ))
        )}
      </span>
      <span className="cell c-act">
        <button data-testid="add-to-playlist" className="ghost" title="Add to the playlist chosen above" onClick={() => onAdd(sha)}>
          +
        </button>
        <button className="ghost play-row" title="Play" onClick={() => onPlay(pos)}>
          ▶
        </button>
      </span>
    </div>
  )
})
