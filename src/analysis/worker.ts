// Entry of an AnalysisPool worker thread: initialises essentia once, then
// decodes and analyses one file per message. Shipped as its own bundle
// (dist/analysis-worker.js) next to the command's, and run from the source
// through tsx in tests.
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { analyzeFile } from './analyze.ts'
import { AnalysisError, oneLine } from './errors.ts'
import { essentia } from './essentia.ts'
import type { WorkerData, WorkerReply, WorkerRequest } from './pool.ts'

const port = parentPort
if (!port) throw new Error('src/analysis/worker.ts runs in an AnalysisPool worker thread')
const { tempoRange, nice } = workerData as WorkerData
// On Linux nice is per thread and pid 0 names the calling one, so only this
// worker yields. Elsewhere it would lower the whole process (streaming too),
// so there a background pool relies on having one worker.
if (nice !== undefined && process.platform === 'linux') {
  try {
    setPriority(0, nice)
  } catch {} // not allowed here: run as it is
}
essentia()

port.on('message', async ({ id, path }: WorkerRequest) => {
  let reply: WorkerReply
  const transfer: ArrayBuffer[] = []
  try {
    const analysis = await analyzeFile(path, tempoRange ? { tempoRange } : {})
    for (const level of analysis.waveform) transfer.push(level.data.buffer as ArrayBuffer)
    reply = { id, ok: true, analysis }
  } catch (err) {
    reply = { id, ok: false, code: err instanceof AnalysisError ? err.code : 'ERR_ANALYSIS', message: oneLine(err) }
  }
  port.postMessage(reply, transfer)
})
