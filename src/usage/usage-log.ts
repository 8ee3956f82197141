// How this device has been used, kept in its home and never sent anywhere
// (the design's privacy-first metrics): time in use (the node's uptime summed
// over its runs), how many own devices were linked over time (samples), the
// warnings it logged by code, and crashes (a run that did not stop cleanly,
// found at the next start because its "running" mark is still there).
// One small JSON file, `<home>/usage.json`, written whole (temp + rename).
import { join } from 'node:path'
import { readJsonFile, writeJsonFile } from '../plays/index.ts'

export const USAGE_SAMPLE = 5 * 60_000 // ms between samples of linked devices (and of the run's time, for a crash)
export const MAX_SAMPLES = 2016 // a week of 5-minute samples
const MAX_CODES = 256 // distinct warning codes counted (then "other")
const MAX_CRASHES = 64 // crash times remembered

export const usagePath = (home: string): string => join(home, 'usage.json')

export interface DeviceSample {
  /** ms since the epoch */
  at: number
  /** Own devices linked then. */
  devices: number
}

export interface UsageState {
  v: 1
  /** Runs started on this home. */
  runs: number
  /** ms the node ran, over every finished run (a crashed run counts up to its last sample). */
  usedMs: number
  /** The run going on now: its start and last sample; left behind by a crash. */
  running?: { startedAt: number; lastAt: number }
  crashes: number
  /** When crashed runs were last seen alive, newest last. */
  crashTimes: number[]
  samples: DeviceSample[]
  /** Warnings logged, by code (an error's `code`, else its name). */
  warnings: Record<string, number>
}

export interface UsageView {
  runs: number
  /** ms in use, this run included. */
  usedMs: number
  /** Since this run started, ms. */
  uptimeMs: number
  crashes: number
  crashTimes: number[]
  samples: DeviceSample[]
  warnings: Record<string, number>
}

const empty = (): UsageState => ({ v: 1, runs: 0, usedMs: 0, crashes: 0, crashTimes: [], samples: [], warnings: {} })
const count = (n: unknown): number => (Number.isSafeInteger(n) && (n as number) >= 0 ? (n as number) : 0)

function checked(v: unknown): UsageState {
  const o = (v && typeof v === 'object' ? v : {}) as Partial<UsageState>
  const out = empty()
  out.runs = count(o.runs)
  out.usedMs = count(o.usedMs)
  out.crashes = count(o.crashes)
  if (Array.isArray(o.crashTimes)) out.crashTimes = o.crashTimes.map(count).slice(-MAX_CRASHES)
  if (Array.isArray(o.samples)) out.samples = o.samples.filter((s) => s && typeof s === 'object').map((s) => ({ at: count(s.at), devices: count(s.devices) })).slice(-MAX_SAMPLES)
  if (o.warnings && typeof o.warnings === 'object') for (const [k, n] of Object.entries(o.warnings).slice(0, MAX_CODES)) out.warnings[k.slice(0, 64)] = count(n)
  if (o.running && typeof o.running === 'object') out.running = { startedAt: count(o.running.startedAt), lastAt: count(o.running.lastAt) }
  return out
}

export interface UsageLogOptions {
  home: string
  /** Own devices linked now. */
  devices: () => number
  /** ms between samples (default USAGE_SAMPLE). */
  sampleMs?: number
  now?: () => number
  onWarning?: (err: Error) => void
}

/** The usage of one home while a node runs on it: start() marks the run, stop() closes it cleanly. */
export class UsageLog {
  private state: UsageState = empty()
  private timer: NodeJS.Timeout | null = null
  private writing: Promise<void> = Promise.resolve()
  private startedAt = 0
  private dirty = false

  constructor(private readonly opts: UsageLogOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)()
  }

  /** Reads the file, counts a crash if the last run did not stop, and marks this run. */
  async start(): Promise<void> {
    this.state = checked(await readJsonFile(usagePath(this.opts.home), this.opts.onWarning))
    const left = this.state.running
    if (left) {
      this.state.crashes++
      this.state.crashTimes = [...this.state.crashTimes, left.lastAt].slice(-MAX_CRASHES)
      this.state.usedMs += Math.max(0, left.lastAt - left.startedAt)
    }
    this.startedAt = this.now()
    this.state.runs++
    this.state.running = { startedAt: this.startedAt, lastAt: this.startedAt }
    this.sample()
    await this.flush()
    this.timer = setInterval(() => {
      this.sample()
      void this.flush()
    }, this.opts.sampleMs ?? USAGE_SAMPLE)
    this.timer.unref()
  }

  /** Closes this run cleanly: its time is added and the running mark removed. */
  async stop(): Promise<void> {
    if (!this.timer) return
    clearInterval(this.timer)
    this.timer = null
    this.sample()
    this.state.usedMs += Math.max(0, this.now() - this.startedAt)
    delete this.state.running
    await this.flush()
  }

  /** A sample of linked devices now (also taken on every link change by the node). */
  sample(): void {
    const at = this.now()
    this.state.samples.push({ at, devices: this.opts.devices() })
    if (this.state.samples.length > MAX_SAMPLES) this.state.samples.splice(0, this.state.samples.length - MAX_SAMPLES)
    if (this.state.running) this.state.running.lastAt = at
    this.dirty = true
  }

  /** Counts a warning by its code (written with the next sample or at stop). */
  warning(err: Error): void {
    const code = String((err as { code?: unknown }).code ?? err.name ?? 'Error').slice(0, 64)
    const w = this.state.warnings
    const key = code in w || Object.keys(w).length < MAX_CODES ? code : 'other'
    w[key] = (w[key] ?? 0) + 1
    this.dirty = true
  }

  flush(): Promise<void> {
    if (!this.dirty) return this.writing
    this.dirty = false
    const snapshot = structuredClone(this.state)
    this.writing = this.writing.then(() => writeJsonFile(usagePath(this.opts.home), snapshot)).catch((err: Error) => this.opts.onWarning?.(err))
    return this.writing
  }

  view(): UsageView {
    const uptimeMs = this.timer ? Math.max(0, this.now() - this.startedAt) : 0
    const s = this.state
    return { runs: s.runs, usedMs: s.usedMs + uptimeMs, uptimeMs, crashes: s.crashes, crashTimes: [...s.crashTimes], samples: [...s.samples], warnings: { ...s.warnings } }
  }
}

/** The usage as the file has it (no node running: `djcloud stats` reads this). */
export async function readUsage(home: string): Promise<UsageView> {
  const s = checked(await readJsonFile(usagePath(home)))
  return { runs: s.runs, usedMs: s.usedMs, uptimeMs: 0, crashes: s.crashes + (s.running ? 1 : 0), crashTimes: s.crashTimes, samples: s.samples, warnings: s.warnings }
}
