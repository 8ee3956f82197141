// File locations as the formats spell them, and as OS paths in the model.
// - rekordbox: a file URL, "file://localhost/C:/Music/a%20b.mp3" (Windows) or
//   "file://localhost/Users/dj/a%20b.mp3" (macOS), UTF-8 percent-encoded.
// - Traktor: LOCATION VOLUME="C:" (Windows) or the disk's name (macOS),
//   DIR="/:Music/:Sets/:" (folders, each after "/:"), FILE="a.mp3"; a playlist
//   refers to it as VOLUME + DIR + FILE. A macOS volume is mounted at
//   /Volumes/<name> (the boot disk too, as a link to /), so that is its path.

const DRIVE = /^[A-Za-z]:$/
const WINDOWS_PATH = /^[A-Za-z]:[\\/]/
const UNC_PATH = /^\\\\[^\\]+\\/

export const isWindowsPath = (path: string): boolean => WINDOWS_PATH.test(path) || UNC_PATH.test(path)

/** Percent-decoding that leaves a malformed sequence as it was, instead of failing the file. */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      return run
    }
  })
}

/** The OS path of a rekordbox Location; null for anything but a file URL (streaming tracks). */
export function pathFromRekordboxLocation(location: string): string | null {
  const m = /^file:\/\/([^/]*)(\/.*)$/i.exec(location.trim())
  if (!m) return null
  const host = m[1]!
  const path = percentDecode(m[2]!)
  if (host && host.toLowerCase() !== 'localhost') return `\\\\${percentDecode(host)}${path.replace(/\//g, '\\')}`
  if (/^\/[A-Za-z]:(\/|$)/.test(path)) return path.slice(1).replace(/\//g, '\\')
  return path
}

const encodeSegments = (segments: string[]) => segments.map(encodeURIComponent).join('/')

/** The rekordbox Location of an OS path ("C:\Music\a b.mp3" -> "file://localhost/C:/Music/a%20b.mp3"). */
export function rekordboxLocationOf(path: string): string {
  if (UNC_PATH.test(path)) {
    const [host = '', ...rest] = path.slice(2).split('\\')
    return `file://${encodeURIComponent(host)}/${encodeSegments(rest)}`
  }
  if (WINDOWS_PATH.test(path)) {
    const [drive = '', ...rest] = path.split(/[\\/]/)
    return `file://localhost/${drive}/${encodeSegments(rest)}`
  }
  return `file://localhost/${encodeSegments(path.replace(/^\/+/, '').split('/'))}`
}

export interface TraktorLocation {
  volume: string
  dir: string
  file: string
}

/** The playlist key of a Traktor location: VOLUME/:DIR/:FILE (DIR starts with "/:"). */
export const traktorKey = (l: TraktorLocation): string => `${l.volume}${l.dir}${l.file}`

const folders = (dir: string) => dir.split('/:').filter((f) => f !== '')

/** The OS path of a Traktor location. */
export function pathFromTraktor(l: TraktorLocation): string {
  const parts = [...folders(l.dir), l.file]
  if (DRIVE.test(l.volume) || l.volume.startsWith('\\\\')) return `${l.volume}\\${parts.join('\\')}`
  return `/Volumes/${l.volume}/${parts.join('/')}`
}

/** The OS path of a Traktor playlist key; null if it has no "/:" (not a key). */
export function pathFromTraktorKey(key: string): string | null {
  const first = key.indexOf('/:')
  const last = key.lastIndexOf('/:')
  if (first < 0) return null
  return pathFromTraktor({ volume: key.slice(0, first), dir: key.slice(first, last + 2), file: key.slice(last + 2) })
}

/**
 * Traktor's location of an OS path: the drive of a Windows path, the volume
 * after /Volumes/, else bootVolume (a path on the boot disk, "/Users/...").
 * Names are NFC, as Traktor writes them even where macOS stores them decomposed.
 */
export function traktorLocationOf(path: string, bootVolume: string): TraktorLocation {
  const p = path.normalize('NFC')
  let volume: string
  let rest: string[]
  if (WINDOWS_PATH.test(p)) {
    ;[volume = '', ...rest] = p.split(/[\\/]/)
  } else if (UNC_PATH.test(p)) {
    const [host = '', share = '', ...more] = p.slice(2).split('\\')
    volume = `\\\\${host}\\${share}`
    rest = more
  } else {
    const parts = p.split('/').filter((s) => s !== '')
    if (p.startsWith('/Volumes/') && parts.length > 2) [, volume = '', ...rest] = parts
    else [volume, rest] = [bootVolume, parts]
  }
  const file = rest.pop() ?? ''
  const dirs = rest.filter((s) => s !== '')
  return { volume, dir: `/:${dirs.map((d) => `${d}/:`).join('')}`, file }
}
