// essentia.js (WASM, AGPL), loaded once per thread on first use: ~90 ms and
// ~60 MB. Only the core API is loaded; the package's root module also loads
// the TensorFlow-based model and plotting add-ons.
import { createRequire } from 'node:module'

/** The part of essentia.js's core API the analyser uses. */
export interface EssentiaVector {
  delete(): void
}
export interface Essentia {
  version: string
  arrayToVector(samples: Float32Array): EssentiaVector
  KeyExtractor(
    audio: EssentiaVector,
    averageDetuningCorrection?: boolean,
    frameSize?: number,
    hopSize?: number,
    hpcpSize?: number,
    maxFrequency?: number,
    maximumSpectralPeaks?: number,
    minFrequency?: number,
    pcpThreshold?: number,
    profileType?: string,
    sampleRate?: number,
  ): { key: string; scale: string; strength: number }
}

let instance: Essentia | undefined

export function essentia(): Essentia {
  if (instance) return instance
  const require = createRequire(import.meta.url)
  // Emscripten's Node glue installs process-wide uncaughtException and
  // unhandledRejection handlers (the latter aborts the WASM runtime): take
  // them out again, so errors elsewhere in the process keep Node's behaviour.
  const events = ['uncaughtException', 'unhandledRejection'] as const
  const listeners = (e: string) => (process.listeners as (event: string) => Array<(...a: unknown[]) => void>)(e)
  const before = events.map((e) => new Set(listeners(e)))
  const wasm: unknown = require('essentia.js/dist/essentia-wasm.umd.js')
  events.forEach((e, i) => {
    for (const l of listeners(e)) if (!before[i]!.has(l)) process.removeListener(e, l)
  })
  const Core = require('essentia.js/dist/essentia.js-core.umd.js') as new (wasm: unknown) => Essentia
  instance = new Core(wasm)
  return instance
}
