// Musical key with essentia's KeyExtractor (HPCP chroma frames correlated
// with key profiles), on the ~11 kHz mono signal: harmony lives well below
// 5 kHz and the downsampled signal costs a quarter of the time.
import { essentia } from './essentia.ts'
import { oneLine } from './errors.ts'
import { keyName, parseKey } from './keys.ts'

export interface KeyEstimate {
  key: string
  strength: number
}

// essentia's defaults at 44.1 kHz (4096-sample frames: 93 ms, 10.8 Hz bins;
// the 'bgate' profile) carried over to ~11 kHz: the same frames in a quarter
// of the samples. Checked against the defaults at 44.1 kHz on the benchmark
// corpus: the same keys. Longer frames (finer bins) or the EDM-derived
// profiles ('edma') did worse there, mistaking relative and fifth keys.
const FRAME = 1024
/** Every other frame: the key of a track does not need all of them, and it halves the cost. */
const HOP = 2048
const PROFILE = 'bgate'

export function estimateKey(mono: Float32Array, sampleRate: number): KeyEstimate {
  const e = essentia()
  const vector = e.arrayToVector(mono)
  let result: { key: string; scale: string; strength: number }
  try {
    result = e.KeyExtractor(vector, true, FRAME, HOP, 12, 3500, 60, 25, 0.2, PROFILE, sampleRate)
  } catch (err) {
    // A C++ exception reaches JavaScript as a bare number (a pointer).
    throw new Error(`essentia's KeyExtractor failed: ${typeof err === 'number' ? 'WASM exception' : oneLine(err)}`)
  } finally {
    vector.delete()
  }
  const parsed = parseKey(`${result.key} ${result.scale}`)
  if (!parsed) throw new Error(`essentia returned an unknown key "${result.key} ${result.scale}"`)
  const strength = Number.isFinite(result.strength) ? Math.max(0, Math.min(1, result.strength)) : 0
  return { key: keyName(parsed.pitchClass, parsed.mode), strength }
}
