// Real audio files with real tags, made by ffmpeg, for the library's
// byte-level tests (hashes, audio payloads, tags, bad input). Every helper
// writes into a directory the test owns and returns the new file's path.
//
// Needs ffmpeg on PATH (Debian's ffmpeg: libmp3lame, libvorbis, libopus,
// aac, alac, flac). Clips are a few seconds long so the suite stays fast;
// each recipe is encoded once per machine and copied from then on (see
// fixture-cache.ts).
import { execFile } from 'node:child_process'
import { mkdtemp, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, extname, join } from 'node:path'
import { promisify } from 'node:util'
import type { ExecutionContext } from 'ava'
import { cachedFile, ffmpegVersionText } from './fixture-cache.ts'

const run = promisify(execFile)

export type FixtureFormat = 'mp3' | 'flac' | 'wav' | 'aiff' | 'm4a' | 'alac' | 'ogg' | 'opus'

export const FIXTURE_EXTENSIONS: Record<FixtureFormat, string> = {
  mp3: '.mp3',
  flac: '.flac',
  wav: '.wav',
  aiff: '.aiff',
  m4a: '.m4a',
  alac: '.m4a',
  ogg: '.ogg',
  opus: '.opus',
}

export interface FixtureTags {
  title?: string
  artist?: string
  album?: string
  albumArtist?: string
  genre?: string
  year?: number
  track?: number
  /** TBPM in mp3/aiff (ID3), BPM in flac/ogg/opus (Vorbis comments), tmpo in m4a. */
  bpm?: number
  /** TKEY in mp3/aiff (ID3), INITIALKEY in flac/ogg/opus (Vorbis comments). WAV and M4A cannot carry it here. */
  key?: string
  comment?: string
}

export interface FixtureOptions {
  /** File name; defaults to `<format>.<ext>`. */
  name?: string
  /** Length in seconds (default 2). */
  seconds?: number
  /** Sine frequency in Hz (default 440); a different frequency is different audio. */
  frequency?: number
  /** Pink noise from this seed instead of a sine. */
  noiseSeed?: number
  /** Channels (default 2). */
  channels?: 1 | 2
  /** Sample rate (default 44100; opus is always 48000). */
  sampleRate?: number
  tags?: FixtureTags
  /** Attach a small JPEG front cover (mp3 and flac). */
  cover?: boolean
  /** Bitrate for the lossy codecs (mp3, m4a, opus), e.g. "192k". */
  bitrate?: string
}

/** A per-test temp dir, removed when the test ends. */
export async function fixtureDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'djcloud-audio-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Runs ffmpeg; `args` end with the output path. */
async function ffmpeg(args: string[]): Promise<void> {
  // One thread: these clips take milliseconds to encode, and tests run many
  // ffmpegs at once on few cores, where a thread pool each only oversubscribes.
  const output = args.slice(0, -1).concat('-threads', '1', args.slice(-1))
  try {
    await run('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...output], { maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    const e = err as Error & { stderr?: string }
    throw new Error(`ffmpeg ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`)
  }
}

/** The container/codec a path is written as, from its extension (alac is told apart by the caller). */
function formatOfFixture(path: string): FixtureFormat {
  const ext = extname(path).toLowerCase()
  const hit = (Object.entries(FIXTURE_EXTENSIONS) as Array<[FixtureFormat, string]>).find(([, e]) => e === ext)
  if (!hit) throw new Error(`no fixture format for ${path}`)
  return hit[0]
}

/** ffmpeg `-metadata` arguments for the tags, in the keys each muxer understands. */
function metadataArgs(format: FixtureFormat, tags: FixtureTags): string[] {
  const m: Record<string, string | number | undefined> = {
    title: tags.title,
    artist: tags.artist,
    album: tags.album,
    album_artist: tags.albumArtist,
    genre: tags.genre,
    date: tags.year,
    track: tags.track,
    comment: tags.comment,
  }
  switch (format) {
    case 'mp3':
    case 'aiff': // ID3v2 chunk
      m.TBPM = tags.bpm
      m.TKEY = tags.key
      break
    case 'flac':
    case 'ogg':
    case 'opus': // Vorbis comments
      m.BPM = tags.bpm
      m.INITIALKEY = tags.key
      break
    case 'm4a':
    case 'alac':
      m.tmpo = tags.bpm
      break
    case 'wav': // RIFF INFO has no BPM or key fields
      break
  }
  const out: string[] = []
  for (const [k, v] of Object.entries(m)) if (v !== undefined) out.push('-metadata', `${k}=${v}`)
  return out
}

/** Muxer options that make the tags land where players look for them. */
function muxerArgs(format: FixtureFormat): string[] {
  switch (format) {
    case 'mp3':
      return ['-id3v2_version', '3', '-write_xing', '1']
    case 'aiff':
      return ['-write_id3v2', '1', '-id3v2_version', '3']
    case 'wav':
      return ['-rf64', 'never']
    default:
      return []
  }
}

function codecArgs(format: FixtureFormat, bitrate?: string): string[] {
  switch (format) {
    case 'mp3':
      return ['-c:a', 'libmp3lame', '-b:a', bitrate ?? '128k']
    case 'flac':
      return ['-c:a', 'flac']
    case 'wav':
      return ['-c:a', 'pcm_s16le']
    case 'aiff':
      return ['-c:a', 'pcm_s16be']
    case 'm4a':
      return ['-c:a', 'aac', '-b:a', bitrate ?? '128k']
    case 'alac':
      return ['-c:a', 'alac']
    case 'ogg':
      return ['-c:a', 'libvorbis', '-q:a', '3']
    case 'opus':
      return ['-c:a', 'libopus', '-b:a', bitrate ?? '96k']
  }
}

/** Makes a real, tagged audio file of `format` in `dir` with ffmpeg. */
export async function makeAudio(dir: string, format: FixtureFormat, opts: FixtureOptions = {}): Promise<string> {
  const path = join(dir, opts.name ?? `${format}${FIXTURE_EXTENSIONS[format]}`)
  const seconds = opts.seconds ?? 2
  const rate = format === 'opus' ? 48000 : (opts.sampleRate ?? 44100)
  const source =
    opts.noiseSeed !== undefined
      ? `anoisesrc=d=${seconds}:c=pink:r=${rate}:a=0.3:seed=${opts.noiseSeed}`
      : `sine=frequency=${opts.frequency ?? 440}:duration=${seconds}:sample_rate=${rate}`
  const args = ['-f', 'lavfi', '-i', source]
  const cover = opts.cover === true
  if (cover) {
    if (format !== 'mp3' && format !== 'flac') throw new Error(`cover art fixtures are made for mp3 and flac, not ${format}`)
    args.push('-f', 'lavfi', '-i', 'color=c=red:s=32x32:d=1', '-map', '0:a', '-map', '1:v', '-frames:v', '1', '-c:v', 'mjpeg', '-disposition:v', 'attached_pic')
    args.push('-metadata:s:v', 'comment=Cover (front)')
  }
  args.push('-ac', String(opts.channels ?? 2), ...codecArgs(format, opts.bitrate), ...muxerArgs(format), ...metadataArgs(format, opts.tags ?? {}))
  // Made once per recipe (the name is only where it lands) and copied to `path`.
  const { name: _name, ...recipe } = opts
  return cachedFile(import.meta.url, { format, ...recipe }, path, (out) => ffmpeg([...args, out]), [await ffmpegVersionText()])
}

export const makeMp3 = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'mp3', opts)
export const makeFlac = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'flac', opts)
export const makeWav = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'wav', opts)
export const makeAiff = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'aiff', opts)
export const makeM4a = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'm4a', opts)
export const makeAlac = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'alac', { name: 'alac.m4a', ...opts })
export const makeOgg = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'ogg', opts)
export const makeOpus = (dir: string, opts?: FixtureOptions) => makeAudio(dir, 'opus', opts)

// ---------------------------------------------------------------------------
// ID3v2.3, written by hand: DJ software retags an MP3 by rewriting only the
// tag at the front, which is what `retag` must imitate (an ffmpeg remux would
// also rewrite the Xing/Info frame).

function syncsafe(n: number): Buffer {
  if (n >= 2 ** 28) throw new RangeError('ID3v2 tag too large')
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f])
}

/** One ID3v2.3 frame (sizes are plain 32-bit in v2.3). */
export function id3v23Frame(id: string, body: Buffer): Buffer {
  const h = Buffer.alloc(10)
  h.write(id, 0, 'latin1')
  h.writeUInt32BE(body.length, 4)
  return Buffer.concat([h, body])
}

/** UTF-16 with BOM, the ID3v2.3 way to carry non-Latin-1 text. */
function utf16(text: string, terminate = false): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le'), terminate ? Buffer.alloc(2) : Buffer.alloc(0)])
}

function textFrame(id: string, text: string): Buffer {
  return id3v23Frame(id, Buffer.concat([Buffer.from([1]), utf16(text)]))
}

/** TXXX with a description and a value. */
export function txxxFrame(description: string, value: string): Buffer {
  return id3v23Frame('TXXX', Buffer.concat([Buffer.from([1]), utf16(description, true), utf16(value)]))
}

function commFrame(text: string): Buffer {
  return id3v23Frame('COMM', Buffer.concat([Buffer.from([1]), Buffer.from('eng', 'latin1'), utf16('', true), utf16(text)]))
}

/** APIC front cover holding `image` (any bytes; the parser does not decode images). */
export function apicFrame(image: Buffer, mime = 'image/jpeg'): Buffer {
  return id3v23Frame('APIC', Buffer.concat([Buffer.from([0]), Buffer.from(`${mime}\0`, 'latin1'), Buffer.from([3]), Buffer.from('cover\0', 'latin1'), image]))
}

/** A whole ID3v2.3 tag from frames, with `padding` zero bytes after them. */
export function id3v23Tag(frames: Buffer[], padding = 0): Buffer {
  const body = Buffer.concat([...frames, Buffer.alloc(padding)])
  return Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([3, 0, 0]), syncsafe(body.length), body])
}

export function id3v23FramesFor(tags: FixtureTags): Buffer[] {
  const frames: Buffer[] = []
  const add = (id: string, v: string | number | undefined) => v !== undefined && frames.push(textFrame(id, String(v)))
  add('TIT2', tags.title)
  add('TPE1', tags.artist)
  add('TALB', tags.album)
  add('TPE2', tags.albumArtist)
  add('TCON', tags.genre)
  add('TYER', tags.year)
  add('TRCK', tags.track)
  add('TBPM', tags.bpm)
  add('TKEY', tags.key)
  if (tags.comment !== undefined) frames.push(commFrame(tags.comment))
  return frames
}

/** Byte length of the ID3v2 tags at the start of `bytes` (0 when there are none). */
export function leadingId3Length(bytes: Buffer): number {
  let at = 0
  while (bytes.length >= at + 10 && bytes.toString('latin1', at, at + 3) === 'ID3') {
    const size = (bytes[at + 6]! << 21) | (bytes[at + 7]! << 14) | (bytes[at + 8]! << 7) | bytes[at + 9]!
    at += 10 + size + (bytes[at + 5]! & 0x10 ? 10 : 0)
  }
  return at
}

/** Replaces an MP3's leading ID3v2 tag(s) with `tag`, leaving every audio byte as it was. */
export async function replaceId3(path: string, tag: Buffer, out = path): Promise<string> {
  const bytes = await readFile(path)
  await writeFile(out, Buffer.concat([tag, bytes.subarray(leadingId3Length(bytes))]))
  return out
}

/**
 * Rewrites a file's tags without touching its audio: MP3 by swapping the ID3
 * tag, everything else by an ffmpeg stream copy with the old metadata
 * dropped. The file is replaced in place; its path is returned.
 */
export async function retag(path: string, tags: FixtureTags, opts: { padding?: number } = {}): Promise<string> {
  const format = formatOfFixture(path)
  if (format === 'mp3') return replaceId3(path, id3v23Tag(id3v23FramesFor(tags), opts.padding ?? 0))
  const tmp = join(dirname(path), `.retag-${process.pid}-${basename(path)}`)
  const args = ['-i', path, '-map', '0', '-c', 'copy', '-map_metadata', '-1', ...muxerArgs(format), ...metadataArgs(format, tags)]
  // Put the moov atom first so the audio moves to a new offset as well.
  if (format === 'm4a') args.push('-movflags', '+faststart')
  await ffmpeg([...args, tmp])
  await rename(tmp, path)
  return path
}

// ---------------------------------------------------------------------------
// Damaged files.

async function outPath(path: string, prefix: string, out?: string): Promise<string> {
  return out ?? join(dirname(path), `${prefix}-${basename(path)}`)
}

/** A copy of the first `bytes` bytes of `path` (default name `cut-<name>`). */
export async function truncateAt(path: string, bytes: number, out?: string): Promise<string> {
  const dest = await outPath(path, 'cut', out)
  const data = await readFile(path)
  if (bytes >= data.length) throw new RangeError(`cannot cut ${data.length} bytes at ${bytes}`)
  await writeFile(dest, data.subarray(0, bytes))
  return dest
}

/** A copy holding the first `fraction` (0..1) of the file's bytes. */
export async function truncateFile(path: string, fraction: number, out?: string): Promise<string> {
  const { size } = await stat(path)
  return truncateAt(path, Math.floor(size * fraction), out)
}

/** A copy with `count` bytes XOR-ed with 0xFF starting at `fraction` of the way in (default: the middle). */
export async function flipBytes(path: string, opts: { fraction?: number; count?: number; out?: string } = {}): Promise<string> {
  const dest = await outPath(path, 'flipped', opts.out)
  const data = await readFile(path)
  const at = Math.floor(data.length * (opts.fraction ?? 0.5))
  for (let i = at; i < Math.min(data.length, at + (opts.count ?? 16)); i++) data[i] = data[i]! ^ 0xff
  await writeFile(dest, data)
  return dest
}

/** A text file with an audio extension (`name` like "song.mp3"). */
export async function makeTextFile(dir: string, name: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, 'These are liner notes, not audio.\nTrack 1: intro\nTrack 2: outro\n'.repeat(20))
  return path
}

/** A zero-byte file. */
export async function makeEmptyFile(dir: string, name: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, '')
  return path
}

/**
 * An MP3 whose ID3v2.3 tag holds one huge frame (`bytes` long): an APIC
 * "cover" or a TXXX comment, as some taggers write. Normal tags come first.
 */
export async function makeMp3WithHugeFrame(
  dir: string,
  opts: { kind?: 'APIC' | 'TXXX'; bytes?: number; name?: string; tags?: FixtureTags } = {},
): Promise<string> {
  const kind = opts.kind ?? 'APIC'
  const bytes = opts.bytes ?? 20 * 1024 * 1024
  const name = opts.name ?? `huge-${kind.toLowerCase()}.mp3`
  const plain = await makeAudio(dir, 'mp3', { name: `.plain-${name}` })
  let frame: Buffer
  if (kind === 'APIC') {
    const image = Buffer.alloc(bytes, 0x55)
    image.set([0xff, 0xd8, 0xff, 0xe0], 0) // JPEG SOI/APP0, so it looks like a picture
    frame = apicFrame(image)
  } else {
    // ASCII text encoded as UTF-16: bytes/2 characters.
    frame = txxxFrame('comment', 'x'.repeat(Math.floor(bytes / 2)))
  }
  const tags = opts.tags ?? { title: 'Huge Frame', artist: 'Tagger' }
  const out = await replaceId3(plain, id3v23Tag([...id3v23FramesFor(tags), frame]), join(dir, name))
  await rm(plain)
  return out
}

/** Reads `length` bytes at `offset` (for tests that look at a fixture's structure). */
export async function readBytes(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(length)
    const { bytesRead } = await fh.read(buf, 0, length, offset)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

/** Offsets of the Ogg pages in a file. */
export function oggPageOffsets(bytes: Buffer): number[] {
  const out: number[] = []
  for (let at = 0; at + 27 <= bytes.length; ) {
    if (bytes.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no page at ${at}`)
    out.push(at)
    const segments = bytes[at + 26]!
    let body = 0
    for (let i = 0; i < segments; i++) body += bytes[at + 27 + i]!
    at += 27 + segments + body
  }
  return out
}
