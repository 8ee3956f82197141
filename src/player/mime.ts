// Content-Type of a track by the format the scanner recognised.
import type { AudioFormat } from '../library/index.ts'

const MIME: Record<AudioFormat, string> = {
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  wav: 'audio/wav',
  aiff: 'audio/aiff',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  // Ogg Opus files are audio/ogg (RFC 7845 §9); "audio/opus" names the RTP
  // payload (RFC 7587), which some browsers do not take for a file.
  opus: 'audio/ogg; codecs=opus',
}

export const FALLBACK_MIME_TYPE = 'application/octet-stream'

export function mimeTypeOf(format: AudioFormat): string {
  return MIME[format] ?? FALLBACK_MIME_TYPE
}
