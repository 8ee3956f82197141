// The DJ's other software: import a rekordbox XML or Traktor NML (uploaded,
// a dry run shown first, then applied) and export the library or one
// playlist as one (downloaded). Both run on the node (POST /api/import,
// GET /api/export), as `djcloud import` and `djcloud export` do.
import { useState } from 'react'
import { describe, download, upload } from './api.ts'
import { downloadName, importHeadline, importLines, type ImportPlanView } from '../logic/index.ts'
import type { Notify, PlaylistSummary } from './types.ts'

type Format = 'rekordbox' | 'traktor'
const FORMATS: Array<[Format, string]> = [
  ['rekordbox', 'rekordbox XML'],
  ['traktor', 'Traktor NML'],
]

export function DjSoftwarePage({ playlists, notify, onImported }: { playlists: PlaylistSummary[]; notify: Notify; onImported: () => void }) {
  const [inFormat, setInFormat] = useState<Format>('rekordbox')
  const [file, setFile] = useState<File | null>(null)
  const [plan, setPlan] = useState<ImportPlanView | null>(null)
  const [busy, setBusy] = useState<'dry' | 'apply' | 'export' | null>(null)
  const [outFormat, setOutFormat] = useState<Format>('rekordbox')
  const [outPlaylist, setOutPlaylist] = useState('')

  const runImport = async (dryRun: boolean) => {
    if (!file) return
    setBusy(dryRun ? 'dry' : 'apply')
    try {
      const p = await upload<ImportPlanView>(`/api/import/${inFormat}${dryRun ? '?dryRun=1' : ''}`, file)
      setPlan(p)
      if (p.applied) {
        notify('Imported', 'info')
        onImported()
      }
    } catch (err) {
      notify(`Import failed: ${describe(err)}`)
    } finally {
      setBusy(null)
    }
  }

  const runExport = async () => {
    setBusy('export')
    try {
      const q = outPlaylist ? `?playlist=${encodeURIComponent(outPlaylist)}` : ''
      const { blob, disposition } = await download(`/api/export/${outFormat}${q}`)
      const url = URL.createObjectURL(blob)
      const a = document.createElement('a')
      a.href = url
      a.download = downloadName(disposition, outFormat === 'rekordbox' ? 'djcloud.xml' : 'djcloud.nml')
      a.click()
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
    } catch (err) {
      notify(`Export failed: ${describe(err)}`)
    } finally {
      setBusy(null)
    }
  }

  const lines = plan ? importLines(plan) : []
  return (
    <div className="page dj-page" data-testid="dj-page">
      <section>
        <h2>Import from DJ software</h2>
        <p className="hint">Cues, loops, beat grids, keys, ratings, colours, comments, play counts and playlists, matched to your library. Nothing you have is removed; importing the same file again changes nothing.</p>
        <div className="toolbar">
          <select data-testid="dj-import-format" value={inFormat} onChange={(e) => (setInFormat(e.target.value as Format), setPlan(null))}>
            {FORMATS.map(([id, label]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
          <input data-testid="dj-import-file" type="file" accept=".xml,.nml" onChange={(e) => (setFile(e.target.files?.[0] ?? null), setPlan(null))} />
          <button data-testid="dj-import-dry" disabled={!file || busy !== null} onClick={() => void runImport(true)}>
            {busy === 'dry' ? 'Reading…' : 'Dry run'}
          </button>
          <button data-testid="dj-import-apply" disabled={!plan || !plan.dryRun || plan.summary.changes === 0 || busy !== null} onClick={() => void runImport(false)}>
            {busy === 'apply' ? 'Importing…' : 'Import'}
          </button>
        </div>
        {plan && (
          <div className="dj-plan" data-testid="dj-plan">
            <p data-testid="dj-plan-headline">{importHeadline(plan)}</p>
            {plan.warnings > 0 && <p className="hint">{plan.warnings} things in the file were read past (see `djcloud import` for the list).</p>}
            {lines.length > 0 && (
              <ul>
                {lines.slice(0, 200).map((l, i) => (
                  <li key={i}>{l}</li>
                ))}
                {lines.length > 200 && <li>… and {lines.length - 200} more</li>}
              </ul>
            )}
          </div>
        )}
      </section>
      <section>
        <h2>Export for DJ software</h2>
        <p className="hint">The tracks on this device (or one playlist's, e.g. a gig playlist pulled here) with their cues, loops, grids, keys, notes and playlists.</p>
        <div className="toolbar">
          <select data-testid="dj-export-format" value={outFormat} onChange={(e) => setOutFormat(e.target.value as Format)}>
            {FORMATS.map(([id, label]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
          <select data-testid="dj-export-playlist" value={outPlaylist} onChange={(e) => setOutPlaylist(e.target.value)}>
            <option value="">Every track here</option>
            {playlists.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
          <button data-testid="dj-export" disabled={busy !== null} onClick={() => void runExport()}>
            {busy === 'export' ? 'Exporting…' : 'Download'}
          </button>
        </div>
      </section>
    </div>
  )
}
