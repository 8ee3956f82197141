// One lifecycle for every part of a running node (after js-libp2p's
// Startable and its components list): each part starts in list order and
// stops in reverse order, from the same list; a part that fails to start
// stops the ones already started before the error is passed on. Starting and
// stopping are idempotent, so `close()` may race a failed start or another
// `close()`.

/** A part of the node that runs: listens, polls, holds files or timers. */
export interface Service {
  /** For errors and traces: `start tracker: EADDRINUSE`. */
  readonly name: string
  /** Starts the part; `signal` aborts a start that is still in progress. */
  start(signal: AbortSignal): Promise<void> | void
  /** Stops the part and releases what it holds. Never throws for a part that did not start. */
  stop(): Promise<void> | void
}

/** A service from two functions (parts that are not classes of their own). */
export function service(name: string, start: (signal: AbortSignal) => Promise<void> | void, stop: () => Promise<void> | void = () => {}): Service {
  return { name, start, stop }
}

export class ServiceStartError extends Error {
  readonly code = 'ERR_SERVICE_START'
  constructor(readonly service: string, override readonly cause: unknown) {
    super(`${service} did not start: ${(cause as Error)?.message ?? String(cause)}`)
    this.name = 'ServiceStartError'
  }
}

export interface LifecycleOptions {
  /** Errors of stops (a stop goes on with the next part after one). */
  onWarning?: (err: Error) => void
}

/** Starts a list of services in order and stops them in reverse. */
export class Lifecycle {
  private readonly started: Service[] = []
  private starting: Promise<void> | null = null
  private stopping: Promise<void> | null = null
  private readonly abort = new AbortController()

  constructor(private readonly services: readonly Service[], private readonly opts: LifecycleOptions = {}) {}

  /** Names in start order. */
  get names(): string[] {
    return this.services.map((s) => s.name)
  }

  /** Starts every service in order; on a failure stops those started and throws a ServiceStartError. */
  start(signal?: AbortSignal): Promise<void> {
    this.starting ??= this.run(signal)
    return this.starting
  }

  private async run(signal?: AbortSignal): Promise<void> {
    const onAbort = () => this.abort.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      for (const s of this.services) {
        if (this.stopping) throw new ServiceStartError(s.name, new Error('stopped while starting'))
        if (this.abort.signal.aborted) throw new ServiceStartError(s.name, this.abort.signal.reason)
        try {
          await s.start(this.abort.signal)
        } catch (err) {
          throw err instanceof ServiceStartError ? err : new ServiceStartError(s.name, err)
        }
        this.started.push(s)
      }
    } catch (err) {
      await this.stopStarted()
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Stops what started, last first. Idempotent; a start still running is aborted first. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort(new Error('stopping'))
      // A start still running sees the abort, stops what it started and
      // throws; wait for it so nothing it opens is left behind.
      await this.starting?.catch(() => {})
      await this.stopStarted()
    })()
    return this.stopping
  }

  private async stopStarted(): Promise<void> {
    for (const s of this.started.splice(0).reverse()) {
      try {
        await s.stop()
      } catch (err) {
        this.opts.onWarning?.(new Error(`stopping ${s.name}: ${(err as Error)?.message ?? String(err)}`))
      }
    }
  }
}
