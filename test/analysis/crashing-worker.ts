// A stand-in for the analysis worker (AnalysisPool's workerModule) that
// dies on request: a file named crash.* ends its thread, throw.* throws out
// of its message handler; anything else is analysed as the real worker does.
import { parentPort } from 'node:worker_threads'
import { analyzeFile } from '../../src/analysis/index.ts'

parentPort!.on('message', async ({ id, path }: { id: number; path: string }) => {
  if (/\/crash\.[a-z0-9]+$/.test(path)) process.exit(3)
  if (/\/throw\.[a-z0-9]+$/.test(path)) throw new Error('the stand-in worker throws')
  try {
    parentPort!.postMessage({ id, ok: true, analysis: await analyzeFile(path) })
  } catch (err) {
    parentPort!.postMessage({ id, ok: false, code: (err as { code?: string }).code ?? 'ERR_ANALYSIS', message: (err as Error).message })
  }
})
