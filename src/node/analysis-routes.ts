// Analysis in the node: a run asked for over the API (`djcloud analyze` while
// the node runs), and the same in the background after start-up and after
// every scan, with one worker so streaming keeps the other cores.
import { availableParallelism } from 'node:os'
import { AnalysisPool, ANALYZER_VERSION, checkUserRange, type TempoRange } from '../analysis/index.ts'
import type { LocalLibrary, AnalyzeSummary, SharedAnalysis } from '../library/index.ts'
import { ApiError, readJsonBody, sendJson, type Route } from '../player/index.ts'

export interface NodeAnalysisOptions {
  library: LocalLibrary
  /** Analyses other own devices already made (from their library manifests). */
  shared?: (audioHash: string) => SharedAnalysis | undefined
  onWarning?: (err: Error) => void
  /** After each recording of a run: its result is in the library now. */
  onProgress?: () => void
  /** Called after a run that analysed something (the library manifest then changes). */
  onAnalysed?: (s: AnalyzeSummary) => void
}


function userRange(v: unknown): TempoRange {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(400, 'ERR_BAD_PARAM', 'tempoRange is {"min": BPM, "max": BPM}')
  try {
    return checkUserRange(v as { min: unknown; max: unknown })
  } catch (err) {
    throw new ApiError(400, 'ERR_BAD_PARAM', (err as Error).message)
  }
}

export class NodeAnalysis {
  private running: Promise<AnalyzeSummary> | null = null
  private again = false
  private closed = false
  private pools: AnalysisPool[] = []
  private readonly abort = new AbortController()

  constructor(private readonly opts: NodeAnalysisOptions) {}

  /** One run at a time; `workers` workers (the background uses one, at low priority). */
  run(opts: { force?: boolean; workers?: number; priority?: 'normal' | 'low' } = {}): Promise<AnalyzeSummary> {
    if (this.running) throw new ApiError(409, 'ERR_CONFLICT', 'an analysis is already running')
    const workers = opts.workers ?? Math.max(1, availableParallelism() - 1)
    this.running = (async () => {
      const tempoRange = await this.opts.library.tempoRange()
      const pool = new AnalysisPool({ size: workers, tempoRange, priority: opts.priority })
      this.pools.push(pool)
      try {
        const summary = await this.opts.library.analyze({
          analyze: (path) => pool.analyze(path),
          version: ANALYZER_VERSION,
          tempoRange,
          force: opts.force,
          shared: this.opts.shared,
          concurrency: workers,
          signal: this.abort.signal,
          onProgress: (p) => p.done > 0 && this.opts.onProgress?.(),
        })
        if (summary.analysed > 0 || summary.fromDevices > 0) this.opts.onAnalysed?.(summary)
        return summary
      } finally {
        this.pools = this.pools.filter((p) => p !== pool)
        await pool.close()
      }
    })().finally(() => {
      this.running = null
    })
    return this.running
  }

  /** Analyses new tracks in the background (after start-up, after a scan); runs again if asked meanwhile. */
  background(): void {
    if (this.closed) return
    if (this.running) {
      this.again = true
      return
    }
    this.run({ workers: 1, priority: 'low' }).then(
      () => {
        if (this.again) {
          this.again = false
          this.background()
        }
      },
      (err: Error) => {
        if (!this.closed) this.opts.onWarning?.(err)
      },
    )
  }

  /** Stops a run and its workers. Idempotent. */
  stop(): Promise<void> {
    return this.close()
  }

  async close(): Promise<void> {
    this.closed = true
    this.abort.abort()
    await Promise.all(this.pools.map((p) => p.close().catch(() => {})))
    await this.running?.catch(() => {})
  }

  routes(): Route[] {
    return [
      {
        methods: ['POST'],
        path: '/api/analyze',
        longRunning: true,
        handle: async ({ req, res }) => {
          const body = ((await readJsonBody(req)) ?? {}) as { force?: unknown; tempoRange?: unknown }
          if (body.force !== undefined && typeof body.force !== 'boolean') throw new ApiError(400, 'ERR_BAD_PARAM', 'force is true or false')
          const range = body.tempoRange === undefined ? undefined : userRange(body.tempoRange)
          // A background run yields to an asked-for one: wait for it, then run.
          await this.running?.catch(() => {})
          if (range) await this.opts.library.setTempoRange(range)
          sendJson(res, 200, { summary: await this.run({ force: body.force === true }) })
        },
      },
    ]
  }
}
