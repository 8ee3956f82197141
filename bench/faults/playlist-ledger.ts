// Every playlist entry the soak has seen on any device, and every entry it
// asked a device to remove (acknowledged or not: a request cut by a kill may
// have been applied). At the end each device must list every seen entry
// that no removal was asked for: an edit a device answered (or passed on)
// and then forgot is a loss.
export class PlaylistLedger {
  private readonly seen = new Map<string, Set<string>>()
  private readonly removed = new Map<string, Set<string>>()

  constructor(readonly names: readonly string[]) {
    for (const n of names) {
      this.seen.set(n, new Set())
      this.removed.set(n, new Set())
    }
  }

  saw(name: string, entries: readonly string[]): void {
    for (const e of entries) this.seen.get(name)!.add(e)
  }

  removing(name: string, entry: string): void {
    this.removed.get(name)!.add(entry)
  }

  /** Entries that must still be in the playlist. */
  kept(name: string): string[] {
    const removed = this.removed.get(name)!
    return [...this.seen.get(name)!].filter((e) => !removed.has(e))
  }

  seenCount(): number {
    return [...this.seen.values()].reduce((n, s) => n + s.size, 0)
  }
}
