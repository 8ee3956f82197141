// The soak's seeded choices: the same seed gives the same sequence of
// decisions (timing on a loaded machine still differs from run to run).
import { mulberry32 } from '../../src/demo/index.ts'

export class Rng {
  private readonly next: () => number

  constructor(seed: number) {
    this.next = mulberry32(seed)
  }

  float(): number {
    return this.next()
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from nothing')
    return items[Math.floor(this.next() * items.length)]!
  }

  /** A key of `weights`, chosen in proportion to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as Array<[K, number]>
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0)
    for (const [k, w] of entries) if ((r -= w) < 0) return k
    return entries.at(-1)![0]
  }
}
