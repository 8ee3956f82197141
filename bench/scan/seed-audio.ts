// The seed every generated track is cut from: 20 s of synthesised stereo
// (the demo's drum loop and chord), kept as PCM for WAV tracks and encoded
// once to 320 kbps CBR mp3 for mp3 tracks.
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeWav, synthLoop } from '../../src/demo/index.ts'
import { splitMpegFrames } from './mpeg-frames.ts'

export const SAMPLE_RATE = 44_100

export interface SeedAudio {
  /** Interleaved 16-bit stereo at SAMPLE_RATE. */
  pcm: Int16Array
  /** Whole MPEG-1 Layer III frames, no Xing/Info frame. */
  frames: Buffer[]
}

function synthStereo(seconds: number): Int16Array {
  // Two loops with different noise seeds, so left and right differ (hats and snares).
  const left = synthLoop({ bpm: 126, key: 'A minor', seconds, sampleRate: SAMPLE_RATE, seed: 1 })
  const right = synthLoop({ bpm: 126, key: 'A minor', seconds, sampleRate: SAMPLE_RATE, seed: 2 })
  const pcm = new Int16Array(left.length * 2)
  for (let i = 0; i < left.length; i++) {
    pcm[2 * i] = left[i]!
    pcm[2 * i + 1] = right[i]!
  }
  return pcm
}

const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0

/** Encodes without a Xing/Info frame and without tags (lame -t; ffmpeg -write_xing 0). */
function encodeMp3(wav: string, mp3: string): void {
  const [cmd, args] = has('lame')
    ? ['lame', ['--quiet', '-t', '--cbr', '-b', '320', wav, mp3]]
    : has('ffmpeg')
      ? ['ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-i', wav, '-c:a', 'libmp3lame', '-b:a', '320k', '-write_xing', '0', '-id3v2_version', '0', mp3]]
      : (() => {
          throw new Error('the scan benchmark needs lame or ffmpeg to encode its seed mp3 (Debian: apt-get install lame)')
        })()
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.error?.message}`)
}

export async function makeSeedAudio(workDir: string, seconds = 20): Promise<SeedAudio> {
  const pcm = synthStereo(seconds)
  const wav = join(workDir, 'seed.wav')
  const mp3 = join(workDir, 'seed.mp3')
  await writeFile(wav, encodeWav(pcm, SAMPLE_RATE, 2))
  encodeMp3(wav, mp3)
  return { pcm, frames: splitMpegFrames(await readFile(mp3)) }
}
