// A request's parameters (query and form body together), read with bounds:
// whatever a client sends, a handler gets a valid value or a SubsonicError.
import { invalid, missing } from './errors.ts'

export const MAX_LIST_SIZE = 500
export const MAX_OFFSET = 1_000_000
export const MAX_REPEATS = 1000 // ids in one star, scrobble or playlist edit

export class Params {
  constructor(readonly raw: URLSearchParams) {}

  str(name: string): string | undefined {
    return this.raw.get(name) ?? undefined
  }

  need(name: string): string {
    const v = this.raw.get(name)
    if (v === null || v === '') throw missing(name)
    return v
  }

  all(name: string): string[] {
    const v = this.raw.getAll(name)
    if (v.length > MAX_REPEATS) throw invalid(name, `at most ${MAX_REPEATS} values`)
    return v
  }

  /** An integer in [min, max], or `fallback` when absent. */
  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw.get(name)
    if (v === null || v === '') return fallback
    if (!/^-?\d{1,16}$/.test(v)) throw invalid(name, 'not an integer')
    const n = Number(v)
    if (n < min || n > max) throw invalid(name, `must be from ${min} to ${max}`)
    return n
  }

  optInt(name: string, min: number, max: number): number | undefined {
    const v = this.raw.get(name)
    return v === null || v === '' ? undefined : this.int(name, 0, min, max)
  }

  num(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw.get(name)
    if (v === null || v === '') return fallback
    if (!/^\d{1,9}(\.\d{1,6})?$/.test(v)) throw invalid(name, 'not a number')
    const n = Number(v)
    if (n < min || n > max) throw invalid(name, `must be from ${min} to ${max}`)
    return n
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw.get(name)
    if (v === null || v === '') return fallback
    if (v === 'true') return true
    if (v === 'false') return false
    throw invalid(name, 'must be true or false')
  }

  /** size + offset of a list, as every listing endpoint takes them. */
  page(sizeName = 'size', offsetName = 'offset', sizeDefault = 10): { size: number; offset: number } {
    return { size: this.int(sizeName, sizeDefault, 0, MAX_LIST_SIZE), offset: this.int(offsetName, 0, 0, MAX_OFFSET) }
  }
}
