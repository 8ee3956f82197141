import { extname } from 'node:path'

export type AudioFormat = 'mp3' | 'flac' | 'wav' | 'aiff' | 'm4a' | 'ogg' | 'opus'

const BY_EXTENSION: Record<string, AudioFormat> = {
  '.mp3': 'mp3',
  '.flac': 'flac',
  '.wav': 'wav',
  '.wave': 'wav',
  '.aif': 'aiff',
  '.aiff': 'aiff',
  '.aifc': 'aiff',
  '.m4a': 'm4a',
  '.aac': 'm4a',
  '.alac': 'm4a',
  '.mp4': 'm4a',
  '.ogg': 'ogg',
  '.oga': 'ogg',
  '.opus': 'opus',
}

/** The format a file claims by its extension, or null for files the scan ignores. */
export function formatOfPath(path: string): AudioFormat | null {
  return BY_EXTENSION[extname(path).toLowerCase()] ?? null
}
