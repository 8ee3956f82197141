// MPEG-1 Layer III frames, as lame writes them. A run of whole frames is a
// valid mp3 stream, so a track of any size is built by repeating a short
// encoded seed frame by frame: no encoder run per track.
const BITRATES_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
const SAMPLE_RATES = [44100, 48000, 32000]

/** Length of the MPEG-1 Layer III frame at `at`, or null if no such frame starts there. */
export function mpegFrameLength(b: Buffer, at: number): number | null {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xfe) !== 0xfa) return null
  const bitrate = BITRATES_KBPS[b[at + 2]! >> 4]
  const rate = SAMPLE_RATES[(b[at + 2]! >> 2) & 3]
  if (!bitrate || !rate) return null
  return Math.floor((144_000 * bitrate) / rate) + ((b[at + 2]! >> 1) & 1)
}

function id3v2Length(b: Buffer): number {
  if (b.length < 10 || b.toString('latin1', 0, 3) !== 'ID3') return 0
  return 10 + ((b[6]! << 21) | (b[7]! << 14) | (b[8]! << 7) | b[9]!) + (b[5]! & 0x10 ? 10 : 0)
}

/**
 * Splits an encoded stream into frames. A Xing/Info (LAME) frame is left
 * out: it declares the stream's byte length, and a repeated stream longer
 * or shorter than declared would be a lie (the scanner flags short ones as
 * truncated).
 */
export function splitMpegFrames(mp3: Buffer): Buffer[] {
  const frames: Buffer[] = []
  let at = id3v2Length(mp3)
  for (;;) {
    const len = mpegFrameLength(mp3, at)
    if (len === null || at + len > mp3.length) break
    const frame = mp3.subarray(at, at + len)
    const head = frame.toString('latin1', 0, 64)
    if (!(frames.length === 0 && (head.includes('Xing') || head.includes('Info')))) frames.push(frame)
    at += len
  }
  if (frames.length < 64) throw new Error(`the seed mp3 holds only ${frames.length} whole MPEG-1 Layer III frames`)
  return frames
}

/**
 * Sets the header's private bit (which decoders ignore) of the frame at
 * `at`: stamping a track's number into its first 32 frames makes its audio
 * bytes, not only its tag, unique.
 */
export function stampPrivateBit(b: Buffer, at: number, bit: number): void {
  b[at + 2] = (b[at + 2]! & 0xfe) | (bit & 1)
}
