// A pool of worker threads, each with its own essentia instance (~60 MB),
// analysing one file at a time. Workers start on demand and stay for the
// next file; an idle worker does not keep the process alive. A file that
// fails, or a worker that dies on one (a WASM abort, running out of memory),
// rejects that file's job only: the worker is replaced for the next.
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import { AnalysisError, oneLine, type AnalysisErrorCode } from './errors.ts'
import { checkRange } from './tempo-range.ts'
import type { Analysis, TempoRange } from './types.ts'

export interface AnalysisPoolOptions {
  /** Worker threads (default: os.availableParallelism()). */
  size?: number
  tempoRange?: TempoRange
  /**
   * 'low' runs the workers at the lowest CPU priority (nice 19, per thread on
   * Linux), so background analysis takes only time nothing else wants.
   */
  priority?: 'normal' | 'low'
  /**
   * The workers' module (a file URL), instead of the analyser's: for tests,
   * e.g. a stand-in that crashes. It gets WorkerRequests and sends WorkerReplies.
   */
  workerModule?: URL
}

/** @internal the messages between the pool and its workers */
export interface WorkerData {
  tempoRange?: TempoRange
  /** A nice value the worker sets on its own thread. */
  nice?: number
}
export interface WorkerRequest {
  id: number
  path: string
}
export type WorkerReply = { id: number; ok: true; analysis: Analysis } | { id: number; ok: false; code: AnalysisErrorCode; message: string }

interface Job {
  id: number
  path: string
  resolve: (a: Analysis) => void
  reject: (e: Error) => void
}

interface Slot {
  worker: Worker
  job?: Job
}

/**
 * Starts a worker. From the bundle (dist/djcloud.js) the worker is the
 * bundle esbuild puts next to it, dist/analysis-worker.js. From the
 * TypeScript source, a small bootstrap registers tsx in the new thread and
 * imports worker.ts: Node 20 does not apply a parent's `--import tsx`
 * loader to a worker's entry module. That worker gets no Node options of
 * its own: the parent's may hold V8 flags (`serve` runs with
 * --max-semi-space-size), which a Worker given them explicitly refuses.
 */
function startWorker(workerData: WorkerData, module?: URL): Worker {
  const typescript = module ? module.pathname.endsWith('.ts') : import.meta.url.endsWith('.ts')
  if (!typescript) return new Worker(module ?? new URL('./analysis-worker.js', import.meta.url), { workerData })
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify((module ?? new URL('./worker.ts', import.meta.url)).href)
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}) })`
  return new Worker(bootstrap, { eval: true, workerData, execArgv: [] })
}

export class AnalysisPool {
  readonly size: number
  private readonly data: WorkerData
  private readonly module?: URL
  private readonly slots = new Set<Slot>()
  private readonly queue: Job[] = []
  private nextId = 1
  private closed = false

  constructor(opts: AnalysisPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? availableParallelism()))
    this.data = {
      ...(opts.tempoRange ? { tempoRange: { ...checkRange(opts.tempoRange) } } : {}),
      ...(opts.priority === 'low' ? { nice: 19 } : {}),
    }
    this.module = opts.workerModule
  }

  /** Worker threads running now (they start on demand, up to `size`). */
  get workers(): number {
    return this.slots.size
  }

  /** Decodes and analyses a file in a worker. */
  analyze(path: string): Promise<Analysis> {
    if (this.closed) return Promise.reject(new AnalysisError('ERR_CLOSED', 'the analysis pool is closed'))
    return new Promise((resolvePromise, reject) => {
      this.queue.push({ id: this.nextId++, path: resolve(path), resolve: resolvePromise, reject })
      this.pump()
    })
  }

  /** Stops the workers; jobs not finished yet are rejected with ERR_CLOSED. */
  async close(): Promise<void> {
    this.closed = true
    const closedError = () => new AnalysisError('ERR_CLOSED', 'the analysis pool was closed before this file was analysed')
    for (const job of this.queue.splice(0)) job.reject(closedError())
    const slots = [...this.slots]
    this.slots.clear()
    await Promise.all(
      slots.map(async (slot) => {
        slot.job?.reject(closedError())
        slot.job = undefined
        await slot.worker.terminate()
      }),
    )
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = [...this.slots].find((s) => !s.job)
      if (!slot && this.slots.size >= this.size) return
      const job = this.queue.shift()!
      if (!slot) {
        try {
          slot = this.spawn()
        } catch (err) {
          // A worker that cannot even start (a missing bundle, refused options) fails the job, not the pool.
          job.reject(new AnalysisError('ERR_WORKER', `cannot start an analysis worker: ${oneLine(err)}`))
          continue
        }
      }
      slot.job = job
      slot.worker.ref()
      slot.worker.postMessage({ id: job.id, path: job.path } satisfies WorkerRequest)
    }
  }

  private spawn(): Slot {
    const worker = startWorker(this.data, this.module)
    const slot: Slot = { worker }
    this.slots.add(slot)
    worker.on('message', (reply: WorkerReply) => {
      const job = slot.job
      if (!job || job.id !== reply.id) return
      slot.job = undefined
      if (reply.ok) job.resolve(reply.analysis)
      else job.reject(new AnalysisError(reply.code, reply.message))
      this.pump()
      if (!slot.job) worker.unref() // idle: let the process exit if nothing else is going on
    })
    const died = (why: string) => {
      if (!this.slots.delete(slot)) return
      const job = slot.job
      slot.job = undefined
      job?.reject(new AnalysisError('ERR_WORKER', `the analysis worker died on this file: ${why}`))
      this.pump() // a replacement takes the queued jobs
    }
    worker.on('error', (err) => died(oneLine(err)))
    worker.on('exit', (code) => died(`exit code ${code}`))
    return slot
  }
}
