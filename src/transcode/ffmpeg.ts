// Transcoding with the ffmpeg on PATH (Debian's). The input is piped in (a
// track held elsewhere arrives through the swarm), so `-ss` before `-i`
// decodes and drops up to the offset: sample-exact, not a keyframe seek.
// The bit-exact flags make the same build give the same bytes for the same
// input (docs/NOTES: libopus otherwise differs run to run).
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { TranscodeError } from './errors.ts'
import { FORMATS, type TargetFormat } from './formats.ts'

export interface TranscodeRequest {
  format: TargetFormat
  kbps: number
  /** seconds into the source to start at */
  offset?: number
}

export interface Encoder {
  /** Names the encoder build in cache keys: a new ffmpeg makes new renditions. */
  id(): Promise<string>
  /** Starts a transcode; input bytes go to `stdin`, the rendition comes out of `stdout`. */
  start(req: TranscodeRequest): Promise<ChildProcessWithoutNullStreams>
}

export function ffmpegArgs(req: TranscodeRequest): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostats',
    ...(req.offset && req.offset > 0 ? ['-ss', req.offset.toFixed(3)] : []),
    '-i', 'pipe:0',
    '-map', '0:a:0', '-vn', '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact',
    ...FORMATS[req.format].args(req.kbps),
    'pipe:1',
  ]
}

export class FfmpegEncoder implements Encoder {
  private version: Promise<string | null> | undefined

  constructor(readonly path = 'ffmpeg') {}

  /** "ffmpeg <version>", or null when no ffmpeg runs from `path`. */
  probe(): Promise<string | null> {
    this.version ??= new Promise((resolve) => {
      execFile(this.path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
        if (err) return resolve(null)
        const m = /^ffmpeg version (\S+)/.exec(stdout)
        resolve(`ffmpeg-${m?.[1] ?? 'unknown'}`)
      })
    })
    return this.version
  }

  async id(): Promise<string> {
    const v = await this.probe()
    if (!v) throw noEncoder(this.path)
    return v
  }

  async start(req: TranscodeRequest): Promise<ChildProcessWithoutNullStreams> {
    await this.id()
    const child = spawn(this.path, ffmpegArgs(req), { stdio: ['pipe', 'pipe', 'pipe'] })
    return await new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(child))
      child.once('error', () => reject(noEncoder(this.path)))
    })
  }
}

const noEncoder = (path: string) =>
  new TranscodeError('ERR_NO_ENCODER', `no audio encoder: "${path}" did not run (install ffmpeg, e.g. "apt install ffmpeg", or ask for format=raw)`)
