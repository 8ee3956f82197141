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
  const exceptions = new Set(process.listeners('uncaughtException'))
  const rejections = new Set(process.listeners('unhandledRejection'))
  const wasm: unknown = require('essentia.js/dist/essentia-wasm.umd.js')
  for (const l of process.listeners('uncaughtException')) if (!exceptions.has(l)) process.removeListener('uncaughtException', l)
  for (const l of process.listeners('unhandledRejection')) if (!rejections.has(l)) process.removeListener('unhandledRejection', l)
  const Core = require('essentia.js/dist/essentia.js-core.umd.js') as new (wasm: unknown) => Essentia
  instance = new Core(wasm)
  return instance
}
