// Hot cues A-H and memory cues of the playing recording: GET on a new track,
// PUT of the whole list after each edit (the node keeps them per audio hash
// in the device's library manifest, so they follow the recording to every
// own device). A hot cue button jumps when set, sets at the playhead when not.
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react'
import {
  addMemoryCue, cueLabel, cueProblem, deleteCue, HOT_SLOTS, hotCue, renameCue, sanitizeCues, setHotCue, formatTime, notesLine,
  type Cue, type HotSlot,
} from '../logic/index.ts'
import { api, ApiError, describe } from './api.ts'
import type { Notify } from './types.ts'

export interface CueState {
  list: Cue[]
  /** Replaces the list and saves it; reverts to the saved list when the node refuses. */
  save: (next: Cue[]) => void
  ready: boolean
}

export function useCues(audioHash: string | null, notify: Notify): CueState {
  const [list, setList] = useState<Cue[]>([])
  const [ready, setReady] = useState(false)
  const saved = useRef<Cue[]>([])
  const hash = useRef(audioHash)
  hash.current = audioHash

  useEffect(() => {
    setList([])
    saved.current = []
    setReady(false)
    if (!audioHash) return
    const ac = new AbortController()
    api<{ cues: unknown }>(`/api/cues/${audioHash}`, { signal: ac.signal }).then(
      (r) => {
        const cues = sanitizeCues(r.cues)
        saved.current = cues
        setList(cues)
        setReady(true)
      },
      (err) => {
        if (ac.signal.aborted) return
        setReady(true)
        if (!(err instanceof ApiError && err.status === 404)) notify(`Cues could not be loaded: ${describe(err)}`)
      },
    )
    return () => ac.abort()
  }, [audioHash, notify])

  const save = useCallback(
    (next: Cue[]) => {
      const h = hash.current
      if (!h) return
      const problem = cueProblem(next)
      if (problem) return notify(`Cue not saved: ${problem}`)
      setList(next)
      api<{ cues: unknown }>(`/api/cues/${h}`, { method: 'PUT', body: { cues: next } }).then(
        (r) => {
          if (hash.current !== h) return
          const cues = sanitizeCues(r.cues)
          saved.current = cues
          setList(cues)
        },
        (err) => {
          if (hash.current !== h) return
          setList(saved.current)
          notify(`Cues not saved: ${describe(err)}`)
        },
      )
    },
    [notify],
  )
  return { list, save, ready }
}

/** The recording's notes (user grid, key, rating, plays, comment: imported from DJ software or set through the API) as one line. */
export function NotesLine({ audioHash }: { audioHash: string }) {
  const [line, setLine] = useState('')
  useEffect(() => {
    setLine('')
    const ac = new AbortController()
    api<{ notes: Parameters<typeof notesLine>[0] }>(`/api/notes/${audioHash}`, { signal: ac.signal }).then(
      (r) => setLine(notesLine(r.notes ?? {})),
      () => {}, // an older node without notes, or a recording not listed: nothing to show
    )
    return () => ac.abort()
  }, [audioHash])
  return line ? (
    <p className="track-notes" data-testid="track-notes">
      {line}
    </p>
  ) : null
}

interface Props {
  cues: CueState
  audioRef: RefObject<HTMLAudioElement | null>
  onJump: (seconds: number) => void
}

export function Cues({ cues, audioRef, onJump }: Props) {
  const now = () => audioRef.current?.currentTime ?? 0
  const hot = (slot: HotSlot) => {
    const c = hotCue(cues.list, slot)
    if (c) onJump(c.position)
    else cues.save(setHotCue(cues.list, slot, now()))
  }
  return (
    <div className="cues">
      <div className="hot-cues" role="group" aria-label="Hot cues">
        {HOT_SLOTS.map((slot) => {
          const c = hotCue(cues.list, slot)
          return (
            <button
              key={slot}
              data-testid={`cue-hot-${slot}`}
              className={`hot${c ? ' set' : ''}`}
              title={c ? `${cueLabel(cues.list, c)} at ${formatTime(c.position)}: jump (set it again from the list)` : `Set hot cue ${slot} at the playhead`}
              onClick={() => hot(slot)}
              disabled={!cues.ready}
            >
              {slot}
            </button>
          )
        })}
        <button data-testid="cue-add-memory" className="memory" onClick={() => cues.save(addMemoryCue(cues.list, now()))} disabled={!cues.ready} title="Add a memory cue at the playhead">
          + Memory
        </button>
      </div>
      <ul className="cue-list" data-testid="cue-list">
        {cues.list.map((c) => (
          <CueItem key={c.id} cue={c} label={cueLabel(cues.list, c)} cues={cues} onJump={onJump} now={now} />
        ))}
      </ul>
    </div>
  )
}

function CueItem({ cue, label, cues, onJump, now }: { cue: Cue; label: string; cues: CueState; onJump: (s: number) => void; now: () => number }) {
  const [name, setName] = useState(cue.name ?? '')
  useEffect(() => setName(cue.name ?? ''), [cue.name])
  const commit = () => {
    if ((cue.name ?? '') !== name.trim()) cues.save(renameCue(cues.list, cue.id, name))
  }
  return (
    <li className={`cue-item ${cue.kind}`} data-testid="cue-item" data-cue-id={cue.id} data-kind={cue.kind} data-slot={cue.slot}>
      <button className="jump" data-testid="cue-jump" onClick={() => onJump(cue.position)} title="Jump here">
        {cue.kind === 'hot' ? cue.slot : 'M'} {formatTime(cue.position)}
      </button>
      <input
        data-testid="cue-name"
        value={name}
        maxLength={64}
        placeholder={label}
        aria-label="Cue name"
        onChange={(e) => setName(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') e.currentTarget.blur()
          if (e.key === 'Escape') {
            setName(cue.name ?? '')
            e.currentTarget.blur()
          }
        }}
      />
      {cue.kind === 'hot' && (
        <button className="ghost" data-testid="cue-move" title="Move this hot cue to the playhead" onClick={() => cues.save(setHotCue(cues.list, cue.slot!, now(), cue.id))}>
          ⇤
        </button>
      )}
      <button className="ghost" data-testid="cue-delete" title="Delete" onClick={() => cues.save(deleteCue(cues.list, cue.id))}>
        ×
      </button>
    </li>
  )
}
