// A small typed event emitter: what src/rtc needs of node:events, so its
// modules bundle for a browser with no polyfill.

type Listener<A extends unknown[]> = (...args: A) => void

export class Emitter<E extends Record<keyof E, unknown[]>> {
  private readonly listeners = new Map<keyof E, Array<{ fn: Listener<never[]>; once: boolean }>>()

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    this.add(event, fn, false)
    return this
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    this.add(event, fn, true)
    return this
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const list = this.listeners.get(event)
    const i = list?.findIndex((l) => l.fn === (fn as unknown as Listener<never[]>)) ?? -1
    if (i >= 0) list!.splice(i, 1)
    return this
  }

  /** Calls each listener in the order added; false when there was none. */
  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.listeners.get(event)
    if (!list || list.length === 0) return false
    for (const l of [...list]) {
      if (l.once) this.off(event, l.fn as unknown as Listener<E[K]>)
      ;(l.fn as unknown as Listener<E[K]>)(...args)
    }
    return true
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.length ?? 0
  }

  removeAllListeners(): this {
    this.listeners.clear()
    return this
  }

  private add<K extends keyof E>(event: K, fn: Listener<E[K]>, once: boolean): void {
    const list = this.listeners.get(event) ?? []
    list.push({ fn: fn as unknown as Listener<never[]>, once })
    this.listeners.set(event, list)
  }
}
