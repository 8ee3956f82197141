// The analysis worker: one file at a time, in its own thread (essentia's
// WASM and the decoders are initialised once per worker).
import { parentPort } from 'node:worker_threads'
import { analyzeFile } from './analyze.ts'
import type { TempoRange } from './types.ts'

parentPort?.on('message', (job: { id: number; path: string; tempoRange?: TempoRange }) => {
  analyzeFile(job.path, job.tempoRange ? { tempoRange: job.tempoRange } : {}).then(
    (analysis) => parentPort!.postMessage({ id: job.id, analysis }),
    (err: Error & { code?: string }) => parentPort!.postMessage({ id: job.id, error: { code: err.code, message: err.message } }),
  )
})
