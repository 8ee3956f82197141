// The renditions offered to thin links, and what each asks of ffmpeg.
export type TargetFormat = 'opus' | 'mp3' | 'aac'

export const TARGET_FORMATS: readonly TargetFormat[] = ['opus', 'mp3', 'aac']

interface FormatSpec {
  /** kbps when the client sets no cap. */
  defaultKbps: number
  mimeType: string
  suffix: string
  args: (kbps: number) => string[]
}

export const FORMATS: Record<TargetFormat, FormatSpec> = {
  // Constrained VBR keeps Opus near its target over any window (plain VBR may go over), and
  // the target leaves 5% for Ogg's pages (measured ~2%), so the stream as sent stays under the cap.
  opus: { defaultKbps: 96, mimeType: 'audio/ogg; codecs=opus', suffix: 'opus', args: (k) => ['-c:a', 'libopus', '-b:a', `${Math.floor(k * 950)}`, '-vbr', 'constrained', '-f', 'ogg'] },
  mp3: { defaultKbps: 128, mimeType: 'audio/mpeg', suffix: 'mp3', args: (k) => ['-c:a', 'libmp3lame', '-b:a', `${k}k`, '-f', 'mp3'] },
  aac: { defaultKbps: 128, mimeType: 'audio/aac', suffix: 'aac', args: (k) => ['-c:a', 'aac', '-b:a', `${k}k`, '-f', 'adts'] },
}

export const MIN_KBPS = 32
export const MAX_KBPS = 320

export function isTargetFormat(s: string): s is TargetFormat {
  return (TARGET_FORMATS as readonly string[]).includes(s)
}

/** The bitrate to encode at: the format's default, lowered to the client's cap, never under MIN_KBPS. */
export function targetKbps(format: TargetFormat, maxKbps: number | undefined): number {
  const d = FORMATS[format].defaultKbps
  if (!maxKbps || maxKbps <= 0) return d
  return Math.max(MIN_KBPS, Math.min(d, MAX_KBPS, Math.floor(maxKbps)))
}
