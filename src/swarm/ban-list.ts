// Addresses that failed authentication repeatedly are refused for a while.
import { logger } from '../log/index.ts'

const log = logger('swarm:ban') // DEBUG=djcloud:swarm:ban
const WINDOW = 10 * 60_000 // ms in which failures count
const FAILURES = 3 // failures within the window that earn a ban
const BAN = 10 * 60_000 // ms
const MAX_ENTRIES = 10_000 // a peer-controlled collection: capped

export class BanList {
  private readonly failures = new Map<string, number[]>()
  private readonly until = new Map<string, number>()

  constructor(private readonly now: () => number = Date.now) {}

  banned(host: string): boolean {
    const t = this.until.get(host)
    if (t === undefined) return false
    if (t > this.now()) return true
    this.until.delete(host)
    return false
  }

  failure(host: string): void {
    const now = this.now()
    const list = (this.failures.get(host) ?? []).filter((t) => now - t < WINDOW)
    list.push(now)
    if (this.failures.size >= MAX_ENTRIES && !this.failures.has(host)) this.failures.delete(this.failures.keys().next().value!)
    this.failures.set(host, list)
    if (list.length >= FAILURES) this.ban(host, `${list.length} failed proofs in ${WINDOW / 60_000} min`)
  }

  ban(host: string, why: string): void {
    if (this.until.size >= MAX_ENTRIES) this.until.delete(this.until.keys().next().value!)
    log('ban %s for %d s: %s', host, BAN / 1000, why)
    this.until.set(host, this.now() + BAN)
    this.failures.delete(host)
  }
}
