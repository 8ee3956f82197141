// The soak's devices: one `djcloud serve` process each, killed (-9) or
// stopped (SIGTERM) and restarted on the same home and the same ports (as a
// real device comes back on its default ports). Each device keeps the
// windows it was down in, so a failed operation can be told apart: its
// device was down (expected) or not (a finding).
import { readApiToken } from '../../src/player/index.ts'
import { startDevice, type DeviceProcess } from '../../src/demo/index.ts'
import type { NodeApi } from './api.ts'

export interface DeviceSpec {
  name: string
  home: string
  /** serve's arguments, fixed for the run (ports included). */
  args: string[]
  /** An own device of the circle (streams, pulls, playlists) or the friend. */
  own: boolean
}

export interface StopRecord {
  device: string
  signal: 'SIGKILL' | 'SIGTERM'
  /** ms from the signal to the exit. */
  ms: number
  /** SIGTERM only: it did not exit within the grace and was killed. */
  ignored: boolean
}

/** A node that exited while nobody stopped it. */
export interface CrashRecord {
  device: string
  at: number
  code: number | null
  /** The end of its stderr. */
  stderr: string
}

export class Device {
  private proc: DeviceProcess | undefined
  /** Called when the node exits on its own (not stopped by `stop`). */
  onCrash: ((c: CrashRecord) => void) | undefined
  /** [down since, up again at] (ms since the epoch); the last one open while down. */
  readonly downs: Array<[number, number]> = []
  api: NodeApi | undefined

  constructor(
    readonly spec: DeviceSpec,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get name(): string {
    return this.spec.name
  }

  get up(): boolean {
    return this.proc !== undefined
  }

  /** Starts the node; resolves once it printed its addresses. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.proc) return
    let timer: NodeJS.Timeout | undefined
    const started = startDevice(this.name, this.spec.home, this.spec.args, this.env)
    const proc = await Promise.race([
      started,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${timeoutMs} ms`)), timeoutMs))),
    ])
      .catch((err: unknown) => {
        // One that starts after all must not hold the home's stores while the next attempt starts.
        void started.then((late) => late.stop(), () => undefined)
        throw err
      })
      .finally(() => clearTimeout(timer))
    const token = await readApiToken(this.spec.home)
    if (!token) throw new Error(`${this.name}: no API token in ${this.spec.home}`)
    this.proc = proc
    this.api = { base: proc.info.api, token }
    void proc.exited.then((code) => {
      if (this.proc !== proc) return // stopped by us
      this.proc = undefined
      this.api = undefined
      this.downs.push([Date.now(), Infinity])
      this.onCrash?.({ device: this.name, at: Date.now(), code, stderr: proc.stderr().slice(-3000) })
    })
    const open = this.downs.at(-1)
    if (open && open[1] === Infinity) open[1] = Date.now()
  }

  info() {
    return this.proc?.info
  }

  stderr(): string {
    return this.proc?.stderr() ?? ''
  }

  /** kill -9 (a crash, power cut), or SIGTERM with a grace after which it is killed and counted as ignoring it. */
  async stop(signal: 'SIGKILL' | 'SIGTERM', graceMs: number): Promise<StopRecord | undefined> {
    const proc = this.proc
    if (!proc) return undefined
    this.proc = undefined
    this.api = undefined
    this.downs.push([Date.now(), Infinity])
    const t0 = Date.now()
    try {
      process.kill(proc.pid, signal)
    } catch {
      // already gone (it crashed on its own): the exit below resolves at once
    }
    let ignored = false
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)))
    if ((await Promise.race([proc.exited, late])) === 'late') {
      ignored = signal === 'SIGTERM'
      try {
        process.kill(proc.pid, 'SIGKILL')
      } catch {
        // exited just now
      }
      await proc.exited
    }
    clearTimeout(timer)
    return { device: this.name, signal, ms: Date.now() - t0, ignored }
  }

  /** Whether the device was down, or came up less than `settleMs` ago, at any time in [from, to]. */
  downDuring(from: number, to: number, settleMs: number): boolean {
    if (!this.proc && to >= Date.now() - 1) return true
    return this.downs.some(([a, b]) => a <= to && b + settleMs >= from)
  }
}
