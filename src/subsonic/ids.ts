// Subsonic ids, derived from content so they are the same on every own
// device and after every restart (never a row counter):
//   song     its SHA-256 (64 hex), the track id djcloud uses everywhere
//   album    "al-" + 24 hex of SHA-256 of the normalised album artist and album
//   artist   "ar-" + 24 hex of SHA-256 of the normalised name
//   playlist "pl-" + base64url of the playlist's name (names are the keys)
import { createHash } from 'node:crypto'

export const SONG_ID = /^[0-9a-f]{64}$/
export const ALBUM_ID = /^al-[0-9a-f]{24}$/
export const ARTIST_ID = /^ar-[0-9a-f]{24}$/

/** Case, width, accents-as-composed and runs of spaces do not make another artist or album. */
export function normaliseName(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim()
}

const digest = (domain: string, ...parts: string[]) =>
  createHash('sha256').update(`djcloud/subsonic/${domain}\0${parts.map(normaliseName).join('\0')}`, 'utf8').digest('hex').slice(0, 24)

export const artistId = (name: string) => `ar-${digest('artist', name)}`
export const albumId = (albumArtist: string, album: string) => `al-${digest('album', albumArtist, album)}`

export const playlistId = (name: string) => `pl-${Buffer.from(name, 'utf8').toString('base64url')}`

/** The playlist name an id stands for, or null for anything that is not one. */
export function playlistName(id: string): string | null {
  if (!/^pl-[A-Za-z0-9_-]{1,400}$/.test(id)) return null
  const name = Buffer.from(id.slice(3), 'base64url').toString('utf8')
  return playlistId(name) === id ? name : null
}
