// A pool of analysis workers (worker_threads), sized to the cores. A job
// that fails rejects alone; a worker that dies rejects its job and is
// replaced. Under tsx the worker runs the TypeScript module; from the CLI
// bundle it runs dist/analysis-worker.js (bin/build.js makes both).
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { AnalysisError, type AnalysisErrorCode } from './errors.ts'
import type { Analysis, TempoRange } from './types.ts'

interface Job {
  id: number
  path: string
  resolve: (a: Analysis) => void
  reject: (e: Error) => void
}

const fromSources = import.meta.url.endsWith('.ts')
const workerUrl = fromSources ? new URL('./worker.ts', import.meta.url) : new URL('./analysis-worker.js', import.meta.url)

export class AnalysisPool {
  readonly size: number
  private readonly idle: Worker[] = []
  private readonly busy = new Map<Worker, Job>()
  private readonly queue: Job[] = []
  private workers = 0
  private nextId = 1
  private closed = false

  constructor(private readonly opts: { size?: number; tempoRange?: TempoRange } = {}) {
    this.size = Math.max(1, opts.size ?? availableParallelism())
  }

  analyze(path: string): Promise<Analysis> {
    if (this.closed) return Promise.reject(new AnalysisError('ERR_CLOSED', 'the analysis pool is closed'))
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, path, resolve, reject })
      this.pump()
    })
  }

  private spawn(): Worker {
    const w = new Worker(workerUrl, fromSources ? { execArgv: ['--import', 'tsx'] } : {})
    this.workers++
    w.on('message', (m: { id: number; analysis?: Analysis; error?: { code?: string; message: string } }) => {
      const job = this.busy.get(w)
      if (!job || job.id !== m.id) return
      this.busy.delete(w)
      if (m.analysis) job.resolve(m.analysis)
      else job.reject(new AnalysisError((m.error?.code as AnalysisErrorCode) ?? 'ERR_DECODE', m.error?.message ?? 'analysis failed'))
      this.idle.push(w)
      this.pump()
    })
    const gone = (err?: Error) => {
      this.workers--
      const job = this.busy.get(w)
      this.busy.delete(w)
      const i = this.idle.indexOf(w)
      if (i >= 0) this.idle.splice(i, 1)
      job?.reject(new AnalysisError('ERR_WORKER', `the analysis worker stopped${err ? `: ${err.message}` : ''}`))
      this.pump()
    }
    w.on('error', gone)
    w.on('exit', () => (this.busy.has(w) || this.idle.includes(w) ? gone() : undefined))
    return w
  }

  private pump(): void {
    while (!this.closed && this.queue.length) {
      const w = this.idle.pop() ?? (this.workers < this.size ? this.spawn() : undefined)
      if (!w) return
      const job = this.queue.shift()!
      this.busy.set(w, job)
      w.postMessage({ id: job.id, path: job.path, tempoRange: this.opts.tempoRange })
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const job of this.queue.splice(0)) job.reject(new AnalysisError('ERR_CLOSED', 'the analysis pool is closed'))
    const all = [...this.idle, ...this.busy.keys()]
    this.idle.length = 0
    await Promise.all(all.map((w) => w.terminate()))
  }
}
